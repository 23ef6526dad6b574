#include "core/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace onnxq {

int resolve_threads(int requested) {
  if (requested > 0) return requested;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

namespace {

// One job shared by the caller and the workers that joined it.
struct Job {
  const std::function<void(int64_t)>* fn = nullptr;
  int64_t chunks = 0;
  std::atomic<int64_t> next{0};
  std::atomic<int> active{0};  // workers still inside the job
  std::exception_ptr error;
  std::mutex error_mutex;

  void work() {
    for (int64_t c; (c = next.fetch_add(1)) < chunks;) {
      try {
        (*fn)(c);
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!error) error = std::current_exception();
        next = chunks;
      }
    }
  }
};

// Persistent workers: kernels call parallel_for thousands of times per model run, and
// starting threads each time would cost more than small kernels do.
class Pool {
 public:
  static Pool& instance() {
    static Pool pool;
    return pool;
  }

  ~Pool() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
  }

  void run(Job& job, int helpers) {
    std::unique_lock submit(submit_mutex_);  // one parallel job at a time
    {
      std::lock_guard lock(mutex_);
      while (static_cast<int>(threads_.size()) < helpers)
        threads_.emplace_back([this] { loop(); });
      job_ = &job;
      wanted_ = helpers;
      ++generation_;
    }
    wake_.notify_all();
    in_worker = true;  // nested parallel_for from the caller's own chunks runs inline
    job.work();
    in_worker = false;
    {
      std::lock_guard lock(mutex_);
      job_ = nullptr;  // no more workers join
    }
    spin_until([&] { return job.active.load() == 0; });
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return job.active.load() == 0; });
  }

  static thread_local bool in_worker;

 private:
  void loop() {
    in_worker = true;
    uint64_t seen = 0;
    std::unique_lock lock(mutex_);
    for (;;) {
      lock.unlock();
      spin_until([&] { return generation_.load() != seen || stopping_.load(); });
      lock.lock();
      wake_.wait(lock, [&] { return stop_ || (generation_ != seen && job_ && wanted_ > 0); });
      if (stop_) return;
      seen = generation_;
      --wanted_;
      Job* job = job_;
      job->active.fetch_add(1);
      lock.unlock();
      job->work();
      lock.lock();
      if (job->active.fetch_sub(1) == 1) done_.notify_all();
    }
  }

  // Kernels come back to back, microseconds apart: a worker (and the caller waiting for
  // one) checks for a while before sleeping, which saves a futex wake-up per parallel_for,
  // tens of microseconds in a virtual machine. It yields while it checks, so on a busy
  // machine the core goes to whoever needs it.
  template <class Ready>
  static void spin_until(Ready ready) {
    for (int i = 0; i < kSpins && !ready(); ++i) std::this_thread::yield();
  }
  static constexpr int kSpins = 200;

  std::mutex submit_mutex_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> threads_;
  Job* job_ = nullptr;
  int wanted_ = 0;
  std::atomic<uint64_t> generation_{0};
  bool stop_ = false;
  std::atomic<bool> stopping_{false};
};

thread_local bool Pool::in_worker = false;

}  // namespace

void parallel_for(int64_t chunks, int threads, const std::function<void(int64_t)>& fn) {
  const int workers = static_cast<int>(std::min<int64_t>(resolve_threads(threads), chunks));
  // Nested calls (a kernel inside a parallel region) run inline rather than wait for
  // workers that are busy with the outer job.
  if (workers <= 1 || Pool::in_worker) {
    for (int64_t c = 0; c < chunks; ++c) fn(c);
    return;
  }
  Job job;
  job.fn = &fn;
  job.chunks = chunks;
  Pool::instance().run(job, workers - 1);
  if (job.error) std::rethrow_exception(job.error);
}

}  // namespace onnxq
