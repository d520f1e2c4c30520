// StreamsExecutor: the threads that run a compiled model's inferences. A stream is one thread (with, on
// the CPU device, its OpenMP team pinned to a group of cores) that runs one task at a time; all streams
// take tasks from one FIFO queue, so an idle stream always picks the next queued inference.
#pragma once

#include <functional>
#include <memory>
#include <thread>
#include <vector>

namespace sluice::dev {

// A unit of work for a stream. Queued intrusively (no allocation per submit): a task is in at most one
// queue at a time, and its owner keeps it alive from submit() until run_on_stream() returns or cancel()
// removed it.
class StreamTask {
 public:
  virtual ~StreamTask() = default;
  // Runs on stream `stream`'s thread. Must not throw (the task reports its own errors).
  virtual void run_on_stream(int stream) noexcept = 0;

 private:
  friend class StreamsExecutor;
  StreamTask* next_ = nullptr;  // guarded by the executor's mutex while queued
};

// Thread-safe: submit and cancel may be called from any thread, including from inside a task.
class StreamsExecutor {
 public:
  // Starts `streams` (>= 1) threads. Each first calls `on_start(stream)` (to pin itself, size its thread
  // team, ...) and then runs tasks until the executor is destroyed.
  explicit StreamsExecutor(int streams, std::function<void(int stream)> on_start = {});
  // Lets the streams finish every queued task, then joins them. Safe to run on one of the executor's own
  // threads (when a task drops the last reference): that thread is detached and exits after its task.
  ~StreamsExecutor();
  StreamsExecutor(const StreamsExecutor&) = delete;
  StreamsExecutor& operator=(const StreamsExecutor&) = delete;

  int streams() const { return static_cast<int>(threads_.size()); }
  // Queues a task (first in, first out).
  void submit(StreamTask& task);
  // Removes a task that no stream has taken yet; false when it is not queued (running, done, or never
  // submitted).
  bool cancel(StreamTask& task);
  // Runs `fn(stream)` on whichever stream takes it first and waits for it; rethrows what it throws. For
  // work that must happen on a stream's own thread (and its thread team), such as a device's planning at
  // compile time. Must not be called from a stream thread of this executor (it would wait for itself
  // when every other stream is busy).
  void run_and_wait(const std::function<void(int stream)>& fn);
  // The index of the stream whose thread calls this, or -1 on any other thread.
  int current_stream() const;

 private:
  struct Shared;  // the queue and its lock, shared with the threads (they may outlive the executor)
  static void stream_loop(std::shared_ptr<Shared> shared, int stream, std::function<void(int)> on_start);

  std::shared_ptr<Shared> shared_;
  std::vector<std::thread> threads_;
};

}  // namespace sluice::dev
