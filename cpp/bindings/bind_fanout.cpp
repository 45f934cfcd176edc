// Bulk fan-out bindings: glue only. The job runs on its own C++ coordinator thread; the
// recipients iterable, on_result and on_progress are Python objects it reaches through the GIL.
//
// Exported surface:
//   BulkJob(client, recipients, *, from_, messaging_service_sid, body, media_urls,
//           status_callback, region, whatsapp, smart_encoded, window, mps, retry_policy, max_attempts,
//           keep_results, expected_recipients, progress_interval, reconcile_delays,
//           backoff_base, seed, on_result, on_progress, on_done)
//     .wait(timeout) -> dict     GIL released in 100 ms slices; Ctrl-C cancels
//     .cancel()  .done  .summary  .results  .estimated_seconds  .rate  .segments
//
// GIL protocol (guideline 5): the coordinator thread never calls Python while it holds a lock
// of the job; it takes the GIL only through `ExitSafeGil` (py_bridge.h), which refuses once
// the atexit hook began; exceptions raised by user callbacks are reported with discard_as_unraisable;
// every Python object the job holds lives in `PyState` and is released with the GIL held.
// `on_done` rides on the job's final progress call (fanout.h: the ProgressSink is called
// "once at the end", after the last results), so the binding needs no hook of its own in
// the core: it is how AsyncSMSService awaits a job without polling (it calls
// loop.call_soon_threadsafe from there; guideline 5c).

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bindings.h"
#include "py_bridge.h"
#include "twiliocore/fanout.h"
#include "twiliocore/twilio_client.h"

namespace py = pybind11;

namespace twiliocore::bindings {
namespace {

using std::chrono::milliseconds;

bool PythonAlive() {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsInitialized() != 0 && Py_IsFinalizing() == 0;
#else
  return Py_IsInitialized() != 0 && _Py_IsFinalizing() == 0;
#endif
}

// Every Python object a job holds. Destroyed with the GIL held (see ~PyBulkJob).
struct PyState {
  py::object iterator;
  py::object on_result;
  py::object on_progress;
  py::object on_done;
  py::object producer_error;  // the exception the iterable raised, re-raised by every wait()
  std::size_t index = 0;

  ~PyState() {
    if (!PythonAlive()) {
      // Finalizing: dropping references now could run Python code without a live interpreter.
      iterator.release();
      on_result.release();
      on_progress.release();
      on_done.release();
      producer_error.release();
    }
  }
};

py::object OrNone(const std::string& s) { return s.empty() ? py::none() : py::object(py::str(s)); }

py::dict ResultDict(const RecipientResult& r) {
  py::dict d;
  d["to"] = r.to;
  d["status"] = RecipientStatusName(r.status);
  d["message_sid"] = OrNone(r.message_sid);
  d["error_code"] = r.error_code != 0 ? py::object(py::int_(r.error_code)) : py::none();
  d["error"] = OrNone(r.error);
  return d;
}

py::dict SummaryDict(const BulkSummary& s) {
  py::dict d;
  d["total"] = s.total;
  d["sent"] = s.sent;
  d["failed"] = s.failed;
  d["invalid"] = s.invalid;
  d["duplicates"] = s.duplicates;
  d["unknown"] = s.unknown;
  d["cancelled"] = s.cancelled;
  d["retries"] = s.retries;
  d["duration_seconds"] = s.duration_seconds;
  d["rate"] = s.rate;
  d["in_flight"] = s.in_flight;
  d["window"] = s.window;
  d["backlog_seconds"] = s.backlog_seconds;
  d["done"] = s.done;
  d["was_cancelled"] = s.was_cancelled;
  d["fatal_error"] = OrNone(s.fatal_error);
  return d;
}

RetryPolicy ParsePolicy(const std::string& name) {
  if (name == "reconcile") return RetryPolicy::kReconcile;
  if (name == "retry") return RetryPolicy::kRetry;
  if (name == "fail") return RetryPolicy::kFail;
  throw py::value_error("retry_policy: must be 'reconcile', 'retry' or 'fail', got '" + name + "'");
}

// Converts one item of the recipients iterable (GIL held).
Recipient ToRecipient(const py::handle& item, std::size_t index) {
  Recipient r;
  if (py::isinstance<py::str>(item)) {
    r.to = item.cast<std::string>();
    return r;
  }
  if ((py::isinstance<py::tuple>(item) || py::isinstance<py::list>(item)) && py::len(item) == 2) {
    py::sequence pair = py::reinterpret_borrow<py::sequence>(item);
    py::object number = pair[0];
    py::object body = pair[1];
    if (py::isinstance<py::str>(number) && (body.is_none() || py::isinstance<py::str>(body))) {
      r.to = number.cast<std::string>();
      if (!body.is_none()) r.body = body.cast<std::string>();
      return r;
    }
  }
  r.to = py::repr(item).cast<std::string>();
  r.error = "recipients[" + std::to_string(index) + "]: expected a str or a (number, body) pair, got " +
            std::string(py::str(py::type::handle_of(item).attr("__name__")));
  return r;
}

class PyBulkJob {
 public:
  PyBulkJob(std::shared_ptr<TwilioClient> client, const py::iterable& recipients, BulkOptions options,
            py::object on_result, py::object on_progress, py::object on_done)
      : state_(std::make_shared<PyState>()) {
    state_->iterator = py::iter(recipients);
    state_->on_result = std::move(on_result);
    state_->on_progress = std::move(on_progress);
    state_->on_done = std::move(on_done);
    std::weak_ptr<PyState> weak = state_;

    RecipientProducer producer = [weak](std::vector<Recipient>& out, std::size_t max) -> bool {
      ExitSafeGil gil;  // refuses once the atexit hook began: intake then ends
      auto state = weak.lock();
      if (!gil || !state) return false;
      for (std::size_t n = 0; n < max; ++n) {
        PyObject* item = PyIter_Next(state->iterator.ptr());
        if (item == nullptr) {
          if (PyErr_Occurred() != nullptr) {
            py::error_already_set error;  // fetches and clears it
            state->producer_error = error.value();
            throw std::runtime_error(py::str(error.value()).cast<std::string>());
          }
          return false;
        }
        py::object obj = py::reinterpret_steal<py::object>(item);
        out.push_back(ToRecipient(obj, state->index++));
      }
      return true;
    };

    ResultSink sink;
    if (!state_->on_result.is_none()) {
      sink = [weak](const std::vector<RecipientResult>& batch) {
        ExitSafeGil gil;
        auto state = weak.lock();
        if (!gil || !state) return;
        for (const auto& r : batch) {
          try {
            state->on_result(ResultDict(r));
          } catch (py::error_already_set& e) {
            e.discard_as_unraisable(state->on_result);
          }
        }
      };
    }
    ProgressSink progress;
    if (!state_->on_progress.is_none() || !state_->on_done.is_none()) {
      progress = [weak](const BulkSummary& s) {
        ExitSafeGil gil;
        auto state = weak.lock();
        if (!gil || !state) return;
        if (!state->on_progress.is_none()) {
          try {
            state->on_progress(SummaryDict(s));
          } catch (py::error_already_set& e) {
            e.discard_as_unraisable(state->on_progress);
          }
        }
        if (s.done && !state->on_done.is_none()) {  // the final call: every result is out
          try {
            state->on_done();
          } catch (py::error_already_set& e) {
            e.discard_as_unraisable(state->on_done);
          }
        }
      };
    }
    auto transport = MakeClientTransport(std::move(client), static_cast<std::size_t>(options.window));
    job_ = std::make_shared<BulkJob>(std::move(transport), std::move(options), std::move(producer),
                                     std::move(sink), std::move(progress));
    job_->Start();
    // A job still reading recipients at interpreter exit is cancelled and joined by the
    // atexit hook, before finalization could tear its thread down inside the GIL.
    exit_id_ = RegisterAtExit([weak_job = std::weak_ptr<BulkJob>(job_)] {
      if (auto job = weak_job.lock()) {
        job->Cancel();
        job->Join();
      }
    });
  }

  ~PyBulkJob() {
    if (!job_) return;
    UnregisterAtExit(exit_id_);
    if (PythonAlive()) {
      {
        py::gil_scoped_release release;  // the coordinator may need the GIL to finish
        job_->Cancel();
        job_->Join();
      }
      job_.reset();
      state_.reset();  // Python references dropped with the GIL held
    } else {
      job_->Cancel();
      job_->Join();
      job_.reset();
    }
  }

  PyBulkJob(const PyBulkJob&) = delete;
  PyBulkJob& operator=(const PyBulkJob&) = delete;

  // Waits in bounded slices with the GIL released; checks for signals between them.
  py::dict Wait(std::optional<double> timeout) {
    const auto deadline =
        timeout ? std::optional(std::chrono::steady_clock::now() +
                                std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                    std::chrono::duration<double>(*timeout)))
                : std::nullopt;
    for (;;) {
      bool finished;
      {
        py::gil_scoped_release release;
        finished = job_->WaitFor(milliseconds(100));
      }
      if (finished) break;
      if (PyErr_CheckSignals() != 0) {
        // Ctrl-C: cancel, let the requests already sent finish (briefly), then raise.
        job_->Cancel();
        {
          py::gil_scoped_release release;
          job_->WaitFor(milliseconds(30'000));
        }
        throw py::error_already_set();
      }
      if (deadline && std::chrono::steady_clock::now() >= *deadline) {
        PyErr_SetString(PyExc_TimeoutError,
                        "bulk job still running after the timeout (it keeps running; call "
                        "cancel() to stop it)");
        throw py::error_already_set();
      }
    }
    {
      py::gil_scoped_release release;
      job_->Join();
    }
    if (state_->producer_error) {
      PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(state_->producer_error.ptr())),
                      state_->producer_error.ptr());
      throw py::error_already_set();
    }
    return SummaryDict(job_->summary());
  }

  // Waits up to `timeout` seconds without raising; true when the job is done.
  bool Join(double timeout) {
    py::gil_scoped_release release;
    bool finished = job_->WaitFor(milliseconds(static_cast<milliseconds::rep>(timeout * 1000)));
    if (finished) job_->Join();
    return finished;
  }

  void Cancel() { job_->Cancel(); }
  [[nodiscard]] bool Done() const { return job_->done(); }
  py::dict Summary() const { return SummaryDict(job_->summary()); }
  py::list Results() const {
    std::vector<RecipientResult> results;
    {
      py::gil_scoped_release release;
      results = job_->results();
    }
    py::list out;
    for (const auto& r : results) out.append(ResultDict(r));
    return out;
  }
  [[nodiscard]] double EstimatedSeconds() const { return job_->estimated_seconds(); }
  [[nodiscard]] double Rate() const { return job_->rate(); }
  [[nodiscard]] std::size_t Segments() const { return job_->segments(); }

 private:
  std::shared_ptr<PyState> state_;
  std::shared_ptr<BulkJob> job_;
  std::uint64_t exit_id_ = 0;
};

}  // namespace

void register_fanout(py::module_& m) {
  py::class_<PyBulkJob>(m, "BulkJob", R"pbdoc(A running bulk send (see twiliocore.bulk.BulkJob).)pbdoc")
      .def(py::init([](std::shared_ptr<TwilioClient> client, const py::iterable& recipients,
                       const std::string& from, const std::string& messaging_service_sid,
                       const std::string& body, std::vector<std::string> media_urls,
                       const std::string& status_callback, const std::string& region,
                       bool whatsapp, bool smart_encoded, int window, double mps,
                       const std::string& retry_policy,
                       int max_attempts, bool keep_results, std::int64_t expected_recipients,
                       double progress_interval, std::vector<double> reconcile_delays,
                       double backoff_base, std::uint64_t seed, py::object on_result,
                       py::object on_progress, py::object on_done) {
             if (!client) throw py::value_error("client: required");
             BulkOptions o;
             o.from = from;
             o.messaging_service_sid = messaging_service_sid;
             o.body = body;
             o.media_urls = std::move(media_urls);
             o.status_callback = status_callback;
             o.region = region;
             o.whatsapp = whatsapp;
             o.smart_encoded = smart_encoded;
             o.window = window;
             o.mps = mps;
             o.retry_policy = ParsePolicy(retry_policy);
             o.max_attempts = max_attempts;
             o.keep_results = keep_results;
             o.expected_recipients = expected_recipients;
             if (!(progress_interval > 0)) throw py::value_error("progress_interval: must be > 0");
             o.progress_interval = milliseconds(static_cast<milliseconds::rep>(progress_interval * 1000));
             o.reconcile_delays.clear();
             for (double d : reconcile_delays) {
               if (!(d >= 0)) throw py::value_error("reconcile_delays: must be >= 0");
               o.reconcile_delays.emplace_back(static_cast<milliseconds::rep>(d * 1000));
             }
             if (!(backoff_base > 0)) throw py::value_error("backoff_base: must be > 0");
             o.backoff_base = milliseconds(static_cast<milliseconds::rep>(backoff_base * 1000));
             o.seed = seed;
             return std::make_unique<PyBulkJob>(std::move(client), recipients, std::move(o),
                                                std::move(on_result), std::move(on_progress),
                                                std::move(on_done));
           }),
           py::arg("client"), py::arg("recipients"), py::kw_only(), py::arg("from_") = "",
           py::arg("messaging_service_sid") = "", py::arg("body") = "",
           py::arg("media_urls") = std::vector<std::string>{}, py::arg("status_callback") = "",
           py::arg("region") = "US", py::arg("whatsapp") = false,
           py::arg("smart_encoded") = false, py::arg("window") = 64,
           py::arg("mps") = 0.0, py::arg("retry_policy") = "reconcile", py::arg("max_attempts") = 8,
           py::arg("keep_results") = true, py::arg("expected_recipients") = -1,
           py::arg("progress_interval") = 0.25,
           py::arg("reconcile_delays") = std::vector<double>{0.5, 2.0, 5.0},
           py::arg("backoff_base") = 0.25, py::arg("seed") = 0, py::arg("on_result") = py::none(),
           py::arg("on_progress") = py::none(), py::arg("on_done") = py::none())
      .def("wait", &PyBulkJob::Wait, py::arg("timeout") = py::none(),
           R"pbdoc(Wait for the job; returns the summary dict. Ctrl-C cancels it.)pbdoc")
      .def("join", &PyBulkJob::Join, py::arg("timeout"),
           R"pbdoc(Wait up to timeout seconds without raising; True when done.)pbdoc")
      .def("cancel", &PyBulkJob::Cancel, R"pbdoc(Stop sending; safe from any thread.)pbdoc")
      .def_property_readonly("done", &PyBulkJob::Done)
      .def_property_readonly("summary", &PyBulkJob::Summary)
      .def_property_readonly("results", &PyBulkJob::Results)
      .def_property_readonly("estimated_seconds", &PyBulkJob::EstimatedSeconds)
      .def_property_readonly("rate", &PyBulkJob::Rate)
      .def_property_readonly("segments", &PyBulkJob::Segments);
}

}  // namespace twiliocore::bindings
