#include "cli/frame_queue.h"

#include <algorithm>

namespace polyhead::cli {

const char* to_string(DropPolicy policy) {
  return policy == DropPolicy::kBlock ? "block" : "oldest";
}

Result<DropPolicy> parse_drop_policy(const std::string& option, const std::string& text) {
  if (text == "block") return DropPolicy::kBlock;
  if (text == "oldest") return DropPolicy::kDropOldest;
  return Status(ErrorCode::kInvalidArgument,
                option + " must be 'oldest' or 'block', found '" + text + "'");
}

FrameQueue::FrameQueue(size_t capacity, DropPolicy policy)
    : capacity_(std::max<size_t>(capacity, 1)), policy_(policy) {
  // Highest index last, so that acquire() hands out 0, 1, 2, ... first.
  for (size_t i = slot_count(); i-- > 0;) free_.push_back(i);
}

std::optional<size_t> FrameQueue::acquire() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return cancelled_ || !free_.empty(); });
  if (cancelled_) return std::nullopt;
  const size_t slot = free_.back();
  free_.pop_back();
  return slot;
}

bool FrameQueue::push(size_t slot) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (policy_ == DropPolicy::kBlock)
    changed_.wait(lock, [&] { return cancelled_ || filled_.size() < capacity_; });
  if (cancelled_) {
    free_.push_back(slot);
    changed_.notify_all();
    return false;
  }
  if (filled_.size() >= capacity_) {  // kDropOldest
    free_.push_back(filled_.front());
    filled_.pop_front();
    ++dropped_;
  }
  filled_.push_back(slot);
  ++pushed_;
  changed_.notify_all();
  return true;
}

void FrameQueue::close() {
  std::lock_guard<std::mutex> lock(mutex_);
  closed_ = true;
  changed_.notify_all();
}

std::optional<size_t> FrameQueue::pop() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return cancelled_ || closed_ || !filled_.empty(); });
  if (cancelled_ || filled_.empty()) return std::nullopt;
  const size_t slot = filled_.front();
  filled_.pop_front();
  changed_.notify_all();
  return slot;
}

void FrameQueue::release(size_t slot) {
  std::lock_guard<std::mutex> lock(mutex_);
  free_.push_back(slot);
  changed_.notify_all();
}

void FrameQueue::cancel() {
  std::lock_guard<std::mutex> lock(mutex_);
  cancelled_ = true;
  for (size_t slot : filled_) free_.push_back(slot);
  filled_.clear();
  changed_.notify_all();
}

uint64_t FrameQueue::take_dropped() {
  std::lock_guard<std::mutex> lock(mutex_);
  const uint64_t n = dropped_ - dropped_taken_;
  dropped_taken_ = dropped_;
  return n;
}

uint64_t FrameQueue::pushed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return pushed_;
}

uint64_t FrameQueue::dropped() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return dropped_;
}

size_t FrameQueue::waiting() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return filled_.size();
}

}  // namespace polyhead::cli
