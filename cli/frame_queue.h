// FrameQueue: the bounded hand-over between the thread that decodes and pre-processes frames (the
// producer) and the thread that runs inference on them (the consumer). It passes indices of slots,
// buffers made once before the stream starts, so no frame is allocated or copied on the way:
//
//   producer: slot = acquire(); fill it; push(slot);  ...  close();
//   consumer: while (auto slot = pop()) { use it; release(*slot); }
//
// At most `capacity` filled slots wait; capacity + 2 slots exist, so the producer always has one
// to fill while the consumer holds another. When the queue is full, the policy decides: kBlock
// makes push() wait for the consumer (no frame is lost: files), kDropOldest throws the oldest
// waiting frame away and counts it (the consumer always gets the newest frames: cameras). The
// locks are here only; neither side holds one while it decodes or runs a model.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "polyhead/result.h"

namespace polyhead::cli {

enum class DropPolicy { kBlock, kDropOldest };

const char* to_string(DropPolicy policy);  // "block", "oldest"
// "block" or "oldest"; anything else is an error naming `option` and the value.
Result<DropPolicy> parse_drop_policy(const std::string& option, const std::string& text);

class FrameQueue {
 public:
  // `capacity` >= 1 filled slots may wait.
  FrameQueue(size_t capacity, DropPolicy policy);

  size_t capacity() const { return capacity_; }
  size_t slot_count() const { return capacity_ + 2; }
  DropPolicy policy() const { return policy_; }

  // Producer: a free slot to fill (waits while none is free); nullopt once cancelled.
  std::optional<size_t> acquire();
  // Producer: hands a filled slot to the consumer. With the queue full, kBlock waits for room and
  // kDropOldest frees the oldest waiting slot and counts it as dropped. False once cancelled (the
  // slot is then taken back as free).
  bool push(size_t slot);
  // Producer: no more frames; pop() returns the waiting ones, then nullopt.
  void close();

  // Consumer: the oldest filled slot; waits while none is ready; nullopt once closed and drained,
  // or cancelled.
  std::optional<size_t> pop();
  // Either side: a slot it holds becomes free again.
  void release(size_t slot);

  // Stops both sides now: waiting calls return, later ones fail. Waiting frames are discarded
  // without being counted as dropped.
  void cancel();

  // Frames dropped since the last call (for the consumer to report on its own thread).
  uint64_t take_dropped();
  // Totals so far.
  uint64_t pushed() const;
  uint64_t dropped() const;
  size_t waiting() const;  // filled slots in the queue now

 private:
  const size_t capacity_;
  const DropPolicy policy_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;  // any change: a slot filled, freed, the queue closed
  std::deque<size_t> filled_;        // oldest first; never more than capacity_
  std::vector<size_t> free_;
  bool closed_ = false;
  bool cancelled_ = false;
  uint64_t pushed_ = 0;
  uint64_t dropped_ = 0;
  uint64_t dropped_taken_ = 0;
};

}  // namespace polyhead::cli
