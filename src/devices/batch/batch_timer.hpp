// A process-wide timer for BATCH's partial batches: calls a target's on_timeout(token) at a deadline.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

namespace sluice::batch {

class TimerTarget {
 public:
  virtual ~TimerTarget() = default;
  virtual void on_timeout(uint64_t token) = 0;
};

// One thread for the whole process, started on first use and never stopped (so that a target's last
// reference may be dropped on it without anyone joining it). It holds its targets weakly: a target that
// is gone by its deadline is skipped. mutex_ guards queue_; on_timeout is called without it.
class BatchTimer {
 public:
  static BatchTimer& instance();
  void schedule(std::chrono::steady_clock::time_point when, std::weak_ptr<TimerTarget> target,
                uint64_t token);

 private:
  BatchTimer();
  void loop();

  std::mutex mutex_;
  std::condition_variable cv_;
  std::multimap<std::chrono::steady_clock::time_point, std::pair<std::weak_ptr<TimerTarget>, uint64_t>>
      queue_;
};

}  // namespace sluice::batch
