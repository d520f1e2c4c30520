#include "tools/sluice/bench_runner.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <mutex>
#include <sstream>
#include <thread>

namespace sluice::tool {
namespace {

using namespace std::chrono_literals;

double milliseconds(BenchClock::duration duration) {
  return std::chrono::duration<double, std::milli>(duration).count();
}

// Latencies reserved per request before measuring, so that recording one allocates nothing: the -niter
// count, or (with -t, where no bound is known in advance: a tiny model runs millions of inferences a
// second) a share of 16 Mi latencies (128 MiB). Reserving costs address space only; pages count towards
// the RSS once written. A request that still runs out grows its storage (an allocation in the callback,
// the one exception).
size_t latency_capacity(const StopCondition& stop, size_t requests) {
  constexpr size_t cap_total = size_t{1} << 24;
  size_t count = cap_total / std::max<size_t>(requests, 1);
  if (stop.niter > 0) count = std::min(count, static_cast<size_t>(stop.niter));
  return count;
}

// The progress bar: one line on stderr, redrawn in place. Used from the main thread only.
class ProgressBar {
 public:
  ProgressBar(bool enabled, const StopCondition& stop) : enabled_(enabled), stop_(stop) {}

  void draw(double elapsed_s, int64_t started) {
    if (!enabled_) return;
    double fraction = 0;
    if (stop_.time_s > 0) fraction = elapsed_s / stop_.time_s;
    if (stop_.niter > 0) fraction = std::max(fraction, static_cast<double>(started) / stop_.niter);
    fraction = std::clamp(fraction, 0.0, 1.0);
    constexpr int width = 40;
    const int filled = static_cast<int>(fraction * width);
    char bar[width + 1];
    for (int i = 0; i < width; ++i) bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    std::fprintf(stderr, "\r[%s] %3d%%  %.1f s", bar, static_cast<int>(fraction * 100), elapsed_s);
    std::fflush(stderr);
    drawn_ = true;
  }
  // Erases the line, so that what follows on the terminal starts clean.
  void clear() {
    if (!drawn_) return;
    std::fprintf(stderr, "\r%60s\r", "");
    std::fflush(stderr);
    drawn_ = false;
  }

 private:
  bool enabled_;
  StopCondition stop_;
  bool drawn_ = false;
};

// The state one measurement shares between its requests (callbacks or threads) and the main thread.
//
// Contracts: the stop condition, start_ and deadline_ are written by the main thread in begin(), before
// any request starts measuring (start_async and the go_ flag publish them), and only read afterwards.
// The hot path (next()) touches only atomics: failed_ (read), claimed_ (one relaxed fetch_add per
// inference, with -niter only). error_ is written once, by the chain that set failed_ first, before its
// chain_ended(); the main thread reads it after active_ reached 0 (the acq_rel decrements order the
// two). mutex_ guards nothing but the main thread's sleep on done_cv_, so that the last chain's wake-up
// is not lost.
class SharedRun {
 public:
  SharedRun(const StopCondition& stop, size_t chains)
      : stop_(stop), claimed_(static_cast<int64_t>(chains)), active_(chains) {}

  void begin() {
    start_ = BenchClock::now();
    deadline_ = start_ + std::chrono::duration_cast<BenchClock::duration>(
                             std::chrono::duration<double>(stop_.time_s > 0 ? stop_.time_s : 0));
    go_.store(true);
    go_.notify_all();
  }
  void await_go() const { go_.wait(false); }
  BenchClock::time_point start() const { return start_; }

  // Whether a request that finished an inference at `now` starts another: no error so far, time left,
  // and with -niter one of the remaining inferences claimed.
  bool next(BenchClock::time_point now) {
    if (failed_.load(std::memory_order_relaxed)) return false;
    if (stop_.time_s > 0 && now >= deadline_) return false;
    return stop_.niter == 0 || claimed_.fetch_add(1, std::memory_order_relaxed) < stop_.niter;
  }

  // Records the first error; every chain then stops at its next inference.
  void fail(std::exception_ptr error) noexcept {
    if (!failed_.exchange(true)) error_ = std::move(error);
  }

  // A chain (a request's sequence of inferences) has ended for good.
  void chain_ended() noexcept {
    if (active_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard lock(mutex_);
      done_cv_.notify_all();
    }
  }

  // Blocks until every chain has ended, redrawing the progress bar every 100 ms meanwhile.
  void wait_all(ProgressBar& bar) {
    while (true) {
      {
        std::unique_lock lock(mutex_);
        if (done_cv_.wait_for(lock, 100ms, [this] { return active_.load(std::memory_order_acquire) == 0; })) {
          break;
        }
      }
      bar.draw(milliseconds(BenchClock::now() - start_) / 1000, claimed_.load(std::memory_order_relaxed));
    }
    bar.clear();
  }

  // After wait_all: the first error, or null.
  std::exception_ptr error() const { return error_; }

 private:
  const StopCondition stop_;
  BenchClock::time_point start_;
  BenchClock::time_point deadline_;
  std::atomic<bool> go_{false};
  std::atomic<bool> failed_{false};
  std::atomic<int64_t> claimed_;  // -niter: inferences started so far (the first one of each chain included)
  std::atomic<size_t> active_;    // chains not yet ended
  std::exception_ptr error_;
  std::mutex mutex_;
  std::condition_variable done_cv_;
};

// What one request (a chain of inferences) records. Aligned to a cache line each, so that requests
// finishing on different threads do not share lines.
struct alignas(64) ChainRecord {
  std::vector<int64_t> latencies_ns;
  BenchClock::time_point last_end;
};

Measurement collect(const std::vector<ChainRecord>& records, BenchClock::time_point start) {
  Measurement measurement;
  size_t total = 0;
  for (const ChainRecord& record : records) total += record.latencies_ns.size();
  measurement.latencies_ms.reserve(total);
  BenchClock::time_point end = start;
  for (const ChainRecord& record : records) {
    for (int64_t ns : record.latencies_ns) measurement.latencies_ms.push_back(static_cast<double>(ns) / 1e6);
    if (!record.latencies_ns.empty()) end = std::max(end, record.last_end);
  }
  measurement.duration_ms = milliseconds(end - start);
  return measurement;
}

// One request of measure_async. The callback touches only its own slot and the shared run's atomics.
struct alignas(64) AsyncSlot {
  InferRequest request;
  SharedRun* run = nullptr;
  BenchClock::time_point started;  // of the inference in flight: written before start_async
  ChainRecord* record = nullptr;
};

// The callback of every request: record the latency, then restart the request or end its chain.
void on_inference_end(AsyncSlot& slot, const std::exception_ptr& error) noexcept {
  const BenchClock::time_point now = BenchClock::now();
  SharedRun& run = *slot.run;
  try {
    if (error) {
      run.fail(error);
    } else {
      slot.record->latencies_ns.push_back((now - slot.started).count());
      slot.record->last_end = now;
      if (run.next(now)) {
        slot.started = BenchClock::now();
        slot.request.start_async();
        return;
      }
    }
  } catch (...) {
    run.fail(std::current_exception());
  }
  run.chain_ended();
}

}  // namespace

std::string describe(const StopCondition& stop) {
  std::ostringstream text;
  if (stop.niter > 0) text << stop.niter << " iterations";
  if (stop.niter > 0 && stop.time_s > 0) text << " or ";
  if (stop.time_s > 0) text << stop.time_s << " s";
  if (stop.niter > 0 && stop.time_s > 0) text << ", whichever comes first";
  return text.str();
}

void warm_up(std::vector<InferRequest>& requests, bool async) {
  std::exception_ptr error;
  if (async) {
    size_t started = 0;
    try {
      for (; started < requests.size(); ++started) requests[started].start_async();
    } catch (...) {
      error = std::current_exception();
    }
    // Every started request is waited for, also after an error, so that none runs on after we return.
    for (size_t i = 0; i < started; ++i) {
      try {
        requests[i].wait();
      } catch (...) {
        if (!error) error = std::current_exception();
      }
    }
  } else {
    std::vector<std::exception_ptr> errors(requests.size());
    std::vector<std::thread> threads;
    threads.reserve(requests.size());
    for (size_t i = 0; i < requests.size(); ++i) {
      threads.emplace_back([&, i] {
        try {
          requests[i].infer();
        } catch (...) {
          errors[i] = std::current_exception();
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    for (const std::exception_ptr& e : errors) {
      if (e && !error) error = e;
    }
  }
  if (error) std::rethrow_exception(error);
}

Measurement measure_async(std::vector<InferRequest>& requests, const StopCondition& stop, bool progress) {
  // With -niter below the request count, only that many requests run (one inference each).
  const size_t chains =
      stop.niter > 0 ? std::min(requests.size(), static_cast<size_t>(stop.niter)) : requests.size();
  SharedRun run(stop, chains);
  std::vector<ChainRecord> records(chains);
  std::vector<AsyncSlot> slots(chains);  // never resized: the callbacks hold references to their slots
  const size_t capacity = latency_capacity(stop, chains);
  for (size_t i = 0; i < chains; ++i) {
    AsyncSlot& slot = slots[i];
    slot.request = requests[i];
    slot.run = &run;
    slot.record = &records[i];
    records[i].latencies_ns.reserve(capacity);
    slot.request.set_callback([&slot](const std::exception_ptr& error) { on_inference_end(slot, error); });
  }

  ProgressBar bar(progress, stop);
  run.begin();
  for (size_t i = 0; i < chains; ++i) {
    try {
      slots[i].started = BenchClock::now();
      slots[i].request.start_async();
    } catch (...) {
      // This request and the ones after it never start: their chains end here.
      run.fail(std::current_exception());
      for (size_t j = i; j < chains; ++j) run.chain_ended();
      break;
    }
  }
  run.wait_all(bar);

  // A chain ends inside its last callback: wait() returns once that callback has returned, after which
  // nothing touches the slots any more.
  std::exception_ptr wait_error;
  for (AsyncSlot& slot : slots) {
    try {
      slot.request.wait();
    } catch (...) {
      if (!wait_error) wait_error = std::current_exception();
    }
  }
  for (AsyncSlot& slot : slots) slot.request.set_callback({});
  if (run.error()) std::rethrow_exception(run.error());
  if (wait_error) std::rethrow_exception(wait_error);
  return collect(records, run.start());
}

Measurement measure_sync(std::vector<InferRequest>& requests, const StopCondition& stop, bool progress) {
  const size_t chains =
      stop.niter > 0 ? std::min(requests.size(), static_cast<size_t>(stop.niter)) : requests.size();
  SharedRun run(stop, chains);
  std::vector<ChainRecord> records(chains);
  const size_t capacity = latency_capacity(stop, chains);
  for (ChainRecord& record : records) record.latencies_ns.reserve(capacity);

  // Each thread owns its request and record; they meet only in `run`.
  std::vector<std::thread> threads;
  threads.reserve(chains);
  for (size_t i = 0; i < chains; ++i) {
    threads.emplace_back([&run, &request = requests[i], &record = records[i]] {
      run.await_go();
      try {
        while (true) {
          const BenchClock::time_point begin = BenchClock::now();
          request.infer();
          const BenchClock::time_point end = BenchClock::now();
          record.latencies_ns.push_back((end - begin).count());
          record.last_end = end;
          if (!run.next(end)) break;
        }
      } catch (...) {
        run.fail(std::current_exception());
      }
      run.chain_ended();
    });
  }
  ProgressBar bar(progress, stop);
  run.begin();
  run.wait_all(bar);
  for (std::thread& thread : threads) thread.join();
  if (run.error()) std::rethrow_exception(run.error());
  return collect(records, run.start());
}

}  // namespace sluice::tool
