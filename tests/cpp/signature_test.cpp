// PLACEHOLDER: filled in by the signature work.
#include <gtest/gtest.h>
