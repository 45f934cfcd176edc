#include "fanout/pacing.h"

#include <algorithm>
#include <cmath>

#include "twiliocore/ascii.h"
#include "twiliocore/segments.h"

namespace twiliocore::internal {

namespace {

using Clock = Pacer::Clock;
using std::chrono::duration_cast;

Clock::duration Cost(double rate, std::size_t segments) {
  return duration_cast<Clock::duration>(
      std::chrono::duration<double>(static_cast<double>(std::max<std::size_t>(segments, 1)) / rate));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Pacer

Pacer::Pacer(double segments_per_second, std::chrono::duration<double> max_backlog)
    : rate_(segments_per_second > 0 && std::isfinite(segments_per_second) ? segments_per_second
                                                                         : 0.0),
      tolerance_(duration_cast<Clock::duration>(std::max(max_backlog,
                                                         std::chrono::duration<double>(0)))) {}

Clock::time_point Pacer::NextAllowed(Clock::time_point now, std::size_t segments) const {
  if (!paced()) return now;
  // Backlog after this message: max(tat, now) + cost - now <= tolerance. A message costlier
  // than the tolerance goes when the queue is empty (tat), so pacing never stalls.
  Clock::duration cost = Cost(rate_, segments);
  Clock::duration slack = tolerance_ > cost ? tolerance_ - cost : Clock::duration::zero();
  return std::max(now, tat_ - slack);
}

void Pacer::Commit(Clock::time_point now, std::size_t segments) {
  if (!paced()) return;
  tat_ = std::max(tat_, now) + Cost(rate_, segments);
}

void Pacer::Refund(Clock::time_point now, std::size_t segments) {
  if (!paced()) return;
  tat_ = std::max(now, tat_ - Cost(rate_, segments));
}

void Pacer::MarkFull(Clock::time_point now) {
  if (!paced()) return;
  tat_ = std::max(tat_, now + tolerance_);
}

double Pacer::BacklogSeconds(Clock::time_point now) const {
  if (!paced() || tat_ <= now) return 0.0;
  return std::chrono::duration<double>(tat_ - now).count();
}

// ---------------------------------------------------------------------------------------------
// AdaptiveWindow

AdaptiveWindow::AdaptiveWindow(int max_window) : max_(std::max(1, max_window)), limit_(max_) {}

void AdaptiveWindow::OnThrottled(std::uint64_t sequence) noexcept {
  // Requests submitted before the last cut were already in flight when it happened: their 429s
  // belong to the same overload and must not cut again.
  if (sequence <= last_cut_) return;
  limit_ = std::max(1, limit_ / 2);
  last_cut_ = submitted_;
  successes_ = 0;
}

void AdaptiveWindow::OnSuccess() noexcept {
  if (limit_ >= max_) return;
  if (++successes_ >= limit_) {
    ++limit_;
    successes_ = 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Rates, durations, segments

double DefaultSenderRate(std::string_view from, std::string_view messaging_service_sid) {
  if (from.empty()) {
    (void)messaging_service_sid;
    return 0.0;  // a Messaging Service: the pool and its rates are Twilio's business
  }
  if (ascii::StartsWithIgnoreCase(from, "whatsapp:")) return 80.0;  // Meta's default business throughput
  if (ascii::AllDigits(from) && from.size() >= 3 && from.size() <= 8) return 100.0;  // short code
  if (from.size() > 2 && from[0] == '+' && from[1] == '1' && from.size() == 12) {
    std::string_view npa = from.substr(2, 3);
    static constexpr std::string_view kTollFree[] = {"800", "833", "844", "855",
                                                     "866", "877", "888"};
    for (auto tf : kTollFree) {
      if (npa == tf) return 3.0;
    }
    return 1.0;  // US/CA long code
  }
  return 10.0;
}

double EstimateDuration(std::int64_t recipients, std::size_t segments, double rate) noexcept {
  if (recipients <= 0 || rate <= 0) return 0.0;
  return static_cast<double>(recipients) * static_cast<double>(std::max<std::size_t>(segments, 1)) /
         rate;
}

std::size_t SegmentsOf(std::string_view body, bool smart_encoded) {
  return smart_encoded ? CountSegments(SmartEncode(body)).num_segments
                       : CountSegments(body).num_segments;
}

}  // namespace twiliocore::internal
