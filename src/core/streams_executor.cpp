#include "sluice/dev/streams_executor.hpp"

#include <condition_variable>
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
};

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
    while (!shared->head && !shared->stop) {
      ++shared->idle;
      shared->work_cv.wait(lock);
      --shared->idle;
    }
    StreamTask* task = shared->head;
    if (!task) return;  // stopped and drained
    shared->head = task->next_;
    if (!shared->head) shared->tail = nullptr;
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
    return true;
  }
  return false;
}

int StreamsExecutor::current_stream() const { return tl_executor == shared_.get() ? tl_stream : -1; }

}  // namespace sluice::dev
