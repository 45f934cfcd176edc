#pragma once

// Shared glue of the binding TUs that cross threads: the exit-safe GIL guard, Python
// objects owned by C++ callbacks, error objects, JSON conversion, interruptible waits and
// the asyncio bridge. The rules (style guideline 5):
//   (a) the engine thread never calls Python while holding an engine mutex (the engine
//       runs callbacks with no lock held);
//   (b) it takes the GIL only through ExitSafeGil, which refuses once the atexit hook began;
//   (c) asyncio futures are resolved with loop.call_soon_threadsafe, never touched from the
//       engine thread;
//   (e) every Python object a C++ callback owns is a GilSafeObject, released with the GIL
//       held (or deliberately leaked when the interpreter is exiting).

#include <pybind11/pybind11.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>

#include <nlohmann/json.hpp>

#include "twiliocore/error.h"
#include "twiliocore/http_engine.h"

namespace twiliocore::bindings {

/// True once the atexit hook started shutting engines down.
bool PythonExiting() noexcept;

/// Takes the GIL unless the interpreter is exiting; test with `operator bool`.
class ExitSafeGil {
 public:
  ExitSafeGil();
  ~ExitSafeGil();
  ExitSafeGil(const ExitSafeGil&) = delete;
  ExitSafeGil& operator=(const ExitSafeGil&) = delete;
  explicit operator bool() const noexcept { return acquired_; }

 private:
  PyGILState_STATE state_{};
  bool acquired_ = false;
};

/// A strong reference that C++ may drop on any thread: released with the GIL held, or
/// leaked on purpose when the interpreter is exiting. Move-only.
class GilSafeObject {
 public:
  GilSafeObject() = default;
  explicit GilSafeObject(pybind11::object object) : ptr_(object.release().ptr()) {}
  ~GilSafeObject() { Reset(); }
  GilSafeObject(const GilSafeObject&) = delete;
  GilSafeObject& operator=(const GilSafeObject&) = delete;
  GilSafeObject(GilSafeObject&& other) noexcept : ptr_(std::exchange(other.ptr_, nullptr)) {}
  GilSafeObject& operator=(GilSafeObject&& other) noexcept {
    if (this != &other) {
      Reset();
      ptr_ = std::exchange(other.ptr_, nullptr);
    }
    return *this;
  }
  /// Borrowed; only with the GIL held.
  [[nodiscard]] pybind11::handle get() const noexcept { return ptr_; }
  void Reset() noexcept;

 private:
  PyObject* ptr_ = nullptr;
};

/// The twiliocore.errors instance for `error` (TwilioRestError, Timeout, ...). GIL held.
pybind11::object ErrorToPython(const Error& error);

/// nlohmann::json -> dict/list/str/int/float/bool/None. GIL held.
pybind11::object JsonToPython(const nlohmann::json& value);

/// Registers `stop` to run in the atexit hook, with the GIL released, after `ExitSafeGil`
/// began refusing and before the engines shut down: background work that takes the GIL
/// (a bulk job reading its recipients) must end before the interpreter finalizes, or its
/// thread would be torn down inside `PyGILState_Ensure`. Returns an id for
/// `UnregisterAtExit`. Safe from any thread.
std::uint64_t RegisterAtExit(std::function<void()> stop);

/// Forgets a registration (its owner is going away first). Unknown ids are ignored.
void UnregisterAtExit(std::uint64_t id) noexcept;

/// Creates an engine whose last reference releases the GIL while it shuts down (its
/// callbacks may need the GIL to finish), and registers it with the atexit hook.
std::shared_ptr<http::Engine> MakeEngine(http::EngineOptions options);

/// Waits for `pending` with the GIL released in 100 ms slices, checking for signals
/// between slices; on a signal (Ctrl-C) the request is cancelled and the Python exception
/// propagates. Called with the GIL held.
http::Response WaitInterruptibly(http::Engine& engine, http::Pending& pending);

/// Converts a finished response to (ok, value) with the GIL held, on the engine thread.
using ToPython = std::function<std::pair<bool, pybind11::object>(http::Response&&)>;

/// Submits `request` and returns an asyncio.Future of the running loop, resolved through
/// loop.call_soon_threadsafe; cancelling the future cancels the transfer. GIL held.
pybind11::object SubmitAsync(const std::shared_ptr<http::Engine>& engine, http::Request request,
                             ToPython to_python);

}  // namespace twiliocore::bindings
