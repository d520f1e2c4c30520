#include "sluice/dev/streams_executor.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>

#include "sluice/error.hpp"

namespace sluice::dev {

// The queue and everything the stream threads touch. Shared (not owned by the executor alone) so that a
// thread detached by a destructor running on it can still finish its loop safely.
struct StreamsExecutor::Shared {
  std::mutex mutex;                 // guards head, tail, stop, idle and every queued task's next_
  std::condition_variable work_cv;  // signalled when a task is queued or stop is set
  StreamTask* head = nullptr;       // the queue: head is taken first
  StreamTask* tail = nullptr;
  bool stop = false;
  int idle = 0;  // threads waiting on work_cv (notify only when one waits: no syscall when all are busy)
  std::atomic<int> queued{0};  // tasks in the queue; written under mutex, read without it by spinning threads
};

// How long a stream that ran out of work polls the queue before it sleeps. Waking a sleeping thread costs
// tens of microseconds on an idle (virtual) CPU; work that comes back within this time (the next
// infer() of a synchronous loop, a request a callback restarted) is taken without one.
constexpr auto spin_before_sleep = std::chrono::microseconds(50);

namespace {
// The stream index of the calling thread, and the executor it belongs to.
thread_local const void* tl_executor = nullptr;
thread_local int tl_stream = -1;
}  // namespace

StreamsExecutor::StreamsExecutor(int streams, std::function<void(int)> on_start)
    : shared_(std::make_shared<Shared>()) {
  SLUICE_CHECK(streams >= 1, "a streams executor needs at least one stream; got ", streams);
  threads_.reserve(static_cast<size_t>(streams));
  for (int s = 0; s < streams; ++s) threads_.emplace_back(stream_loop, shared_, s, on_start);
  // Every thread knows its executor by the Shared block, which outlives this object.
}

StreamsExecutor::~StreamsExecutor() {
  {
    std::lock_guard lock(shared_->mutex);
    shared_->stop = true;
  }
  shared_->work_cv.notify_all();
  for (auto& thread : threads_) {
    if (thread.get_id() == std::this_thread::get_id()) {
      thread.detach();  // the last reference was dropped by one of our own tasks: it exits after that task
    } else {
      thread.join();
    }
  }
}

void StreamsExecutor::stream_loop(std::shared_ptr<Shared> shared, int stream,
                                  std::function<void(int)> on_start) {
  tl_executor = shared.get();
  tl_stream = stream;
  if (on_start) on_start(stream);
  std::unique_lock lock(shared->mutex);
  for (;;) {
    if (!shared->head && !shared->stop) {
      lock.unlock();
      const auto until = std::chrono::steady_clock::now() + spin_before_sleep;
      while (shared->queued.load(std::memory_order_relaxed) == 0 &&
             std::chrono::steady_clock::now() < until) {
        std::this_thread::yield();
      }
      lock.lock();
    }
    while (!shared->head && !shared->stop) {
      ++shared->idle;
      shared->work_cv.wait(lock);
      --shared->idle;
    }
    StreamTask* task = shared->head;
    if (!task) return;  // stopped and drained
    shared->head = task->next_;
    if (!shared->head) shared->tail = nullptr;
    shared->queued.fetch_sub(1, std::memory_order_relaxed);
    task->next_ = nullptr;
    lock.unlock();
    task->run_on_stream(stream);  // may destroy the executor (not `shared`, which this frame holds)
    lock.lock();
  }
}

void StreamsExecutor::submit(StreamTask& task) {
  bool wake = false;
  {
    std::lock_guard lock(shared_->mutex);
    task.next_ = nullptr;
    if (shared_->tail) {
      shared_->tail->next_ = &task;
    } else {
      shared_->head = &task;
    }
    shared_->tail = &task;
    shared_->queued.fetch_add(1, std::memory_order_relaxed);
    wake = shared_->idle > 0;
  }
  if (wake) shared_->work_cv.notify_one();
}

bool StreamsExecutor::cancel(StreamTask& task) {
  std::lock_guard lock(shared_->mutex);
  StreamTask* prev = nullptr;
  for (StreamTask* t = shared_->head; t; prev = t, t = t->next_) {
    if (t != &task) continue;
    (prev ? prev->next_ : shared_->head) = t->next_;
    if (shared_->tail == t) shared_->tail = prev;
    t->next_ = nullptr;
    shared_->queued.fetch_sub(1, std::memory_order_relaxed);
    return true;
  }
  return false;
}

void StreamsExecutor::run_and_wait(const std::function<void(int)>& fn) {
  SLUICE_CHECK(current_stream() < 0, "run_and_wait called from one of the executor's own streams");
  struct Waited final : StreamTask {
    const std::function<void(int)>* fn = nullptr;
    std::mutex mutex;  // guards done and error
    std::condition_variable done_cv;
    bool done = false;
    std::exception_ptr error;
    void run_on_stream(int stream) noexcept override {
      std::exception_ptr e;
      try {
        (*fn)(stream);
      } catch (...) {
        e = std::current_exception();
      }
      std::lock_guard lock(mutex);
      error = e;
      done = true;
      done_cv.notify_one();
    }
  } task;
  task.fn = &fn;
  submit(task);
  std::unique_lock lock(task.mutex);
  task.done_cv.wait(lock, [&] { return task.done; });
  if (task.error) std::rethrow_exception(task.error);
}

int StreamsExecutor::current_stream() const { return tl_executor == shared_.get() ? tl_stream : -1; }

}  // namespace sluice::dev
