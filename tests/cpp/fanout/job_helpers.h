#pragma once

// Recipients and options shared by the fan-out's job tests (fanout_test.cpp) and transport
// tests (client_transport_test.cpp).

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "twiliocore/fanout.h"

namespace twiliocore::testing {

// A producer of `numbers`, in order, in the chunks the job asks for.
inline RecipientProducer FromList(std::vector<std::string> numbers) {
  auto index = std::make_shared<std::size_t>(0);
  auto list = std::make_shared<std::vector<std::string>>(std::move(numbers));
  return [index, list](std::vector<Recipient>& out, std::size_t max) {
    while (*index < list->size() && out.size() < max) {
      out.push_back(Recipient{(*list)[(*index)++], std::nullopt, {}});
    }
    return *index < list->size();
  };
}

// `n` distinct valid US numbers.
inline std::vector<std::string> Numbers(int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back("+1415" + std::to_string(2000000 + i));
  return v;
}

// Options that make retries and lookups wait milliseconds, not seconds, and fix the jitter.
inline BulkOptions FastOptions() {
  using namespace std::chrono_literals;
  BulkOptions o;
  o.from = "+15005550006";
  o.body = "Hello from the fan-out";
  o.backoff_base = 1ms;
  o.backoff_cap = 5ms;
  o.reconcile_delays = {1ms, 2ms, 3ms};
  o.seed = 42;
  o.producer_chunk = 7;
  return o;
}

}  // namespace twiliocore::testing
