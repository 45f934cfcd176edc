// Bindings of the signature unit: glue only.
//
//   class SignatureValidator
//     __init__(auth_token: str)
//     compute(url: str, params: FormParams, algorithm=HMAC_SHA1) -> str
//     validate(url: str, params: FormParams, signature: str, algorithm=HMAC_SHA1) -> bool
//     validate_body(url: str, body: str | bytes, signature: str, algorithm=HMAC_SHA1) -> bool
//   sha256_hex(data: str | bytes) -> str
//
// The algorithm is named as Twilio names it, "HMAC_SHA1" or "HMAC_SHA256" (a Python enum type
// here would cost the module pybind11's enum support and, through it, C++ iostreams).
//
// FormParams: a list of (name, value) pairs, or a dict whose values are str or lists/tuples of
// str (the shape most webhook handlers have, converted here instead of in Python).
//
// Arguments are plain C++ values converted while the GIL is held; the HMAC work then
// runs with the GIL released. The auth token is read through a
// string_view of the Python string, copied only into the C++ SecureString.

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <string_view>

#include "bindings.h"
#include "twiliocore/signature.h"

namespace py = pybind11;

namespace twiliocore::bindings {
namespace {

std::string TypeName(py::handle object) {
  return py::str(py::type::handle_of(object).attr("__name__")).cast<std::string>();
}

// FormParams as pairs. A dict is read here with the same rules and messages as the Python
// layer's `_pairs` (python/twiliocore/request_validator.py), which handles the other shapes.
Params ToParams(const py::object& params) {
  if (!PyDict_CheckExact(params.ptr())) return params.cast<Params>();
  const auto dict = py::reinterpret_borrow<py::dict>(params);
  Params pairs;
  pairs.reserve(dict.size());
  for (const auto& [key, value] : dict) {
    if (!py::isinstance<py::str>(key)) {
      throw py::type_error("params: expected str names, got " + TypeName(key));
    }
    const auto name = key.cast<std::string>();
    if (py::isinstance<py::str>(value)) {
      pairs.emplace_back(name, value.cast<std::string>());
    } else if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value)) {
      for (const py::handle item : value) {
        if (!py::isinstance<py::str>(item)) {
          throw py::type_error("params[" + py::repr(key).cast<std::string>() +
                               "]: expected str values, got " + TypeName(item));
        }
        pairs.emplace_back(name, item.cast<std::string>());
      }
    } else {
      throw py::type_error("params[" + py::repr(key).cast<std::string>() +
                           "]: expected str or list of str, got " + TypeName(value));
    }
  }
  return pairs;
}

// "HMAC_SHA1" or "HMAC_SHA256"; ValueError naming the argument for anything else.
SignatureAlgorithm ToAlgorithm(std::string_view name) {
  if (name == "HMAC_SHA1") return SignatureAlgorithm::kHmacSha1;
  if (name == "HMAC_SHA256") return SignatureAlgorithm::kHmacSha256;
  throw py::value_error("algorithm: unsupported webhook signature algorithm '" +
                        std::string(name) + "' (HMAC_SHA1 or HMAC_SHA256)");
}

}  // namespace

void register_signature(py::module_& m) {
  using Release = py::call_guard<py::gil_scoped_release>;

  const auto sha1 = py::arg("algorithm") = "HMAC_SHA1";

  py::class_<SignatureValidator>(m, "SignatureValidator", R"pbdoc(
Computes and checks X-Twilio-Signature values for one auth token.

Thread-safe: one instance can be shared by any number of threads. The token is never
shown by repr() and cannot be read back.)pbdoc")
      .def(py::init([](std::string_view auth_token) { return SignatureValidator(auth_token); }),
           py::arg("auth_token"), "Key HMAC-SHA1 and HMAC-SHA256 with the auth token; ValueError if empty.")
      .def(
          "compute",
          [](const SignatureValidator& self, std::string_view url, const py::object& params,
             std::string_view algorithm) {
            const SignatureAlgorithm selected = ToAlgorithm(algorithm);
            const Params pairs = ToParams(params);
            py::gil_scoped_release release;
            return self.Compute(url, pairs, selected);
          },
          py::arg("url"), py::arg("params"), sha1,
          "Base64 HMAC of the URL (as given) followed by the sorted name+value pairs.")
      .def(
          "validate",
          [](const SignatureValidator& self, std::string_view url, const py::object& params,
             std::string_view signature, std::string_view algorithm) {
            const SignatureAlgorithm selected = ToAlgorithm(algorithm);
            const Params pairs = ToParams(params);
            py::gil_scoped_release release;
            return self.Validate(url, pairs, signature, selected);
          },
          py::arg("url"), py::arg("params"), py::arg("signature"), sha1,
          "True if the signature matches the URL as given, with its port removed, or with "
          "the default port added. Constant-time compare.")
      .def(
          "validate_body",
          [](const SignatureValidator& self, std::string_view url, std::string_view body,
             std::string_view signature, std::string_view algorithm) {
            const SignatureAlgorithm selected = ToAlgorithm(algorithm);
            py::gil_scoped_release release;
            return self.ValidateBody(url, body, signature, selected);
          },
          py::arg("url"), py::arg("body"), py::arg("signature"), sha1,
          "JSON webhook check: the URL's bodySHA256 must equal sha256(body) and the "
          "signature must match the URL alone. False if the URL has no bodySHA256.")
      .def("__repr__",
           [](const SignatureValidator&) { return std::string("<SignatureValidator token=***>"); });

  m.def("sha256_hex", &Sha256Hex, py::arg("data"), Release(),
        "Lowercase hex SHA-256 of the data (UTF-8 for str).");
}

}  // namespace twiliocore::bindings
