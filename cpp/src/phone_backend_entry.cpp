// The one export of libtwiliocore_phonenumber.so, looked up by phone.cpp with dlsym.

#include "phone_libphonenumber.h"

extern "C" __attribute__((visibility("default"))) const twiliocore::internal::PhoneBackend*
twiliocore_phone_backend() {
  return &twiliocore::internal::libphonenumber::Backend();
}
