// Bindings of the signature unit: glue only.
//
//   SignatureAlgorithm(enum.Enum): HMAC_SHA1, HMAC_SHA256
//   class SignatureValidator
//     __init__(auth_token: str)
//     compute(url: str, params: list[tuple[str, str]], algorithm=HMAC_SHA1) -> str
//     validate(url: str, params: list[tuple[str, str]], signature: str, algorithm=HMAC_SHA1) -> bool
//     validate_body(url: str, body: str | bytes, signature: str, algorithm=HMAC_SHA1) -> bool
//   sha256_hex(data: str | bytes) -> str
//
// Arguments are plain C++ values converted while the GIL is held; the HMAC work then
// runs with the GIL released (py::call_guard). The auth token is read through a
// string_view of the Python string, copied only into the C++ SecureString.

#include <pybind11/native_enum.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <string_view>

#include "bindings.h"
#include "twiliocore/signature.h"

namespace py = pybind11;

namespace twiliocore::bindings {

void register_signature(py::module_& m) {
  using Release = py::call_guard<py::gil_scoped_release>;

  py::native_enum<SignatureAlgorithm>(m, "SignatureAlgorithm", "enum.Enum",
                                      "The HMAC a webhook is signed with.")
      .value("HMAC_SHA1", SignatureAlgorithm::kHmacSha1)
      .value("HMAC_SHA256", SignatureAlgorithm::kHmacSha256)
      .finalize();
  const auto sha1 = py::arg("algorithm") = SignatureAlgorithm::kHmacSha1;

  py::class_<SignatureValidator>(m, "SignatureValidator", R"pbdoc(
Computes and checks X-Twilio-Signature values for one auth token.

Thread-safe: one instance can be shared by any number of threads. The token is never
shown by repr() and cannot be read back.)pbdoc")
      .def(py::init([](std::string_view auth_token) { return SignatureValidator(auth_token); }),
           py::arg("auth_token"), "Key HMAC-SHA1 and HMAC-SHA256 with the auth token; ValueError if empty.")
      .def("compute", &SignatureValidator::Compute, py::arg("url"), py::arg("params"), sha1, Release(),
           "Base64 HMAC of the URL (as given) followed by the sorted name+value pairs.")
      .def("validate", &SignatureValidator::Validate, py::arg("url"), py::arg("params"),
           py::arg("signature"), sha1, Release(),
           "True if the signature matches the URL as given, with its port removed, or with "
           "the default port added. Constant-time compare.")
      .def("validate_body", &SignatureValidator::ValidateBody, py::arg("url"), py::arg("body"),
           py::arg("signature"), sha1, Release(),
           "JSON webhook check: the URL's bodySHA256 must equal sha256(body) and the "
           "signature must match the URL alone. False if the URL has no bodySHA256.")
      .def("__repr__",
           [](const SignatureValidator&) { return std::string("<SignatureValidator token=***>"); });

  m.def("sha256_hex", &Sha256Hex, py::arg("data"), Release(),
        "Lowercase hex SHA-256 of the data (UTF-8 for str).");
}

}  // namespace twiliocore::bindings
