// PLACEHOLDER: filled in by the phone work.
#include <gtest/gtest.h>
