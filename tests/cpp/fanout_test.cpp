// PLACEHOLDER: filled in by the fanout work.
#include <gtest/gtest.h>
