#include "devices/batch/batch_timer.hpp"

#include <thread>
#include <vector>

namespace sluice::batch {

BatchTimer& BatchTimer::instance() {
  // Leaked on purpose: its thread runs until the process ends, and static destruction must not join it.
  static BatchTimer* timer = new BatchTimer();
  return *timer;
}

BatchTimer::BatchTimer() {
  std::thread([this] { loop(); }).detach();
}

void BatchTimer::schedule(std::chrono::steady_clock::time_point when, std::weak_ptr<TimerTarget> target,
                          uint64_t token) {
  std::lock_guard lock(mutex_);
  const bool earliest = queue_.empty() || when < queue_.begin()->first;
  queue_.emplace(when, std::make_pair(std::move(target), token));
  if (earliest) cv_.notify_one();
}

void BatchTimer::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (queue_.empty()) {
      cv_.wait(lock);
      continue;
    }
    const auto when = queue_.begin()->first;
    if (std::chrono::steady_clock::now() < when) {
      cv_.wait_until(lock, when);
      continue;
    }
    auto [target, token] = std::move(queue_.begin()->second);
    queue_.erase(queue_.begin());
    lock.unlock();
    if (auto alive = target.lock()) alive->on_timeout(token);
    lock.lock();
  }
}

}  // namespace sluice::batch
