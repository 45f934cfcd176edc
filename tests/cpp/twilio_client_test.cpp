// PLACEHOLDER: filled in by the twilio_client work.
#include <gtest/gtest.h>
