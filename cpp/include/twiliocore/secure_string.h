#pragma once

/// @file
/// The zeroing string type for secrets (auth tokens, API key secrets).
///
/// `twiliocore::SecureString` is defined with the signature unit (`signature.h`,
/// implementation in `signature.cpp`, wiped with `OPENSSL_cleanse`): one type for every
/// secret in the core. This header is the include for code that needs only the secret
/// type (the HTTP engine and the Twilio client), so they do not depend on the signature
/// API by name.

#include "twiliocore/signature.h"  // IWYU pragma: export

namespace twiliocore {

/// Copies a secret into a new `SecureString` (SecureString is move-only on purpose; a
/// copy is always explicit).
[[nodiscard]] inline SecureString CopySecret(const SecureString& secret) {
  return SecureString(secret.view());
}

}  // namespace twiliocore
