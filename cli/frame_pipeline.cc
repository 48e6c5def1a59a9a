#ifdef POLYHEAD_HAVE_STREAM

#include "cli/frame_pipeline.h"

#include <algorithm>
#include <chrono>
#include <utility>

namespace polyhead::cli {

uint64_t steady_now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

FramePipeline::FramePipeline(std::unique_ptr<FrameSource> source,
                             std::vector<const InputInfo*> inputs, const PipelineOptions& options)
    : source_(std::move(source)),
      inputs_(std::move(inputs)),
      options_(options),
      queue_(options.queue_capacity, options.drop) {}

FramePipeline::~FramePipeline() {
  queue_.cancel();
  if (producer_.joinable()) producer_.join();
}

void FramePipeline::start() {
  slots_.resize(queue_.slot_count());
  for (FrameSlot& slot : slots_) {
    slot.inputs.resize(inputs_.size());
    slot.transforms.resize(inputs_.size());
    for (size_t m = 0; m < inputs_.size(); ++m)
      slot.inputs[m].resize(static_cast<size_t>(inputs_[m]->shape.elements()));
  }
  producer_ = std::thread([this] { produce(); });
}

Status FramePipeline::fill(FrameSlot& slot) {
  for (size_t m = 0; m < inputs_.size(); ++m) {
    PH_ASSIGN_OR_RETURN(slot.transforms[m],
                        vision::preprocess(slot.frame, *inputs_[m], slot.inputs[m].data()));
  }
  return Status::ok();
}

void FramePipeline::produce() {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  while (options_.max_frames == 0 || frames_read_ < options_.max_frames) {
    const std::optional<size_t> index = queue_.acquire();
    if (!index) break;
    FrameSlot& slot = slots_[*index];
    if (options_.pace_fps > 0)
      std::this_thread::sleep_until(
          start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                      static_cast<double>(frames_read_) / options_.pace_fps)));
    Result<bool> got = source_->read(slot.frame);
    if (!got.is_ok() || !*got) {
      if (!got.is_ok()) producer_status_ = got.status();
      queue_.release(*index);
      break;
    }
    slot.arrival_ns = steady_now_ns();
    slot.index = frames_read_++;
    const Status filled = fill(slot);
    if (!filled.is_ok()) {
      producer_status_ =
          Status(filled.code(), "frame " + std::to_string(slot.index) + " of " +
                                    source_->description() + ": " + filled.message());
      queue_.release(*index);
      break;
    }
    if (!queue_.push(*index)) break;
  }
  queue_.close();
}

FrameSlot* FramePipeline::next() {
  const uint64_t asked_ns = steady_now_ns();
  const std::optional<size_t> index = queue_.pop();
  if (!index) return nullptr;
  FrameSlot* slot = &slots_[*index];
  // Frames of a file read as fast as the queue takes them have no arrival of their own: a frame
  // arrives when inference can start on it, once decoded and pre-processed and asked for (so a
  // slow decoder of large photos does not eat the budget of every frame). Frames that come at a
  // pace (a camera, a file read at its frame rate) arrived when decoded: their pre-processing and
  // time in the queue count as latency.
  const bool paced = options_.live || options_.pace_fps > 0;
  if (!paced) slot->arrival_ns = std::max(slot->arrival_ns, std::max(asked_ns, steady_now_ns()));
  return slot;
}

void FramePipeline::release(FrameSlot* slot) {
  queue_.release(static_cast<size_t>(slot - slots_.data()));
}

Status FramePipeline::finish() {
  if (producer_.joinable()) producer_.join();
  return producer_status_;
}

}  // namespace polyhead::cli

#endif  // POLYHEAD_HAVE_STREAM
