// FramePipeline: decoding and pre-processing of frame N+1 overlap inference on frame N. A producer
// thread reads frames from a FrameSource into preallocated slots and writes each model's input
// floats there (vision::preprocess, the same path as `run --image`); the caller's thread takes the
// slots in order through a FrameQueue, copies the floats into its plans and runs them:
//
//   FramePipeline pipeline(std::move(source), inputs, options);
//   pipeline.start();
//   while (FrameSlot* slot = pipeline.next()) {
//     for (m...) plan[m].set_input(name, slot->inputs[m].data(), slot->inputs[m].size());
//     scheduler.run_frame(slot->arrival_ns);
//     pipeline.release(slot);
//   }
//   Status status = pipeline.finish();   // the producer's error, if any
//
// Needs OpenCV: include only where POLYHEAD_HAVE_STREAM is defined.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <opencv2/core.hpp>

#include "cli/frame_queue.h"
#include "cli/frame_source.h"
#include "polyhead/model.h"
#include "polyhead/result.h"
#include "polyhead/vision/preprocess.h"

namespace polyhead::cli {

// The steady_clock in nanoseconds: frame arrival times, and the scheduler's clock, so that both
// read the same time line.
uint64_t steady_now_ns();

// One frame on its way through the pipeline.
struct FrameSlot {
  cv::Mat frame;       // as decoded, 8-bit BGR (the consumer may draw on it)
  uint64_t index = 0;  // position in the source, from 0
  // When the frame arrived (steady_now_ns()): when it was decoded; for a source read ahead of
  // need (a file or photos read as fast as the queue takes them), no earlier than when the
  // consumer asked for it, since waiting in the queue is then reading ahead, not lateness.
  uint64_t arrival_ns = 0;
  // Per model, in the order of the `inputs` given to the pipeline: its image input's floats and
  // the transform from model pixels back to the frame.
  std::vector<std::vector<float>> inputs;
  std::vector<vision::ImageTransform> transforms;
};

struct PipelineOptions {
  size_t queue_capacity = 2;
  DropPolicy drop = DropPolicy::kBlock;
  uint64_t max_frames = 0;  // frames to read from the source; 0 = all
  // > 0: read frames no faster than this many per second, like a camera would deliver them (a
  // file read with --drop oldest); 0 = as fast as the queue takes them.
  double pace_fps = 0;
  // The source delivers frames at its own pace (a camera): frames that wait in the queue are late.
  bool live = false;
};

class FramePipeline {
 public:
  // `inputs[m]` is the image input of model m (it must outlive the pipeline).
  FramePipeline(std::unique_ptr<FrameSource> source, std::vector<const InputInfo*> inputs,
                const PipelineOptions& options);
  ~FramePipeline();  // cancels and joins the producer
  FramePipeline(const FramePipeline&) = delete;
  FramePipeline& operator=(const FramePipeline&) = delete;

  // Sizes the slots and starts the producer thread.
  void start();
  // The next frame in source order (waits for it); nullptr at the end of the stream, after an
  // error of the producer, or after cancel().
  FrameSlot* next();
  // Hands a slot from next() back for reuse.
  void release(FrameSlot* slot);
  // Frames dropped by the queue since the last call.
  uint64_t take_dropped() { return queue_.take_dropped(); }
  // Stops the producer early (the consumer failed or has seen enough).
  void cancel() { queue_.cancel(); }
  // Joins the producer; its error (an unreadable photo, a frame the model input refuses) if any.
  Status finish();

  const FrameSource& source() const { return *source_; }
  uint64_t frames_read() const { return frames_read_; }  // after finish()

 private:
  void produce();
  Status fill(FrameSlot& slot);

  std::unique_ptr<FrameSource> source_;
  std::vector<const InputInfo*> inputs_;
  PipelineOptions options_;
  FrameQueue queue_;
  std::vector<FrameSlot> slots_;
  std::thread producer_;
  Status producer_status_;
  uint64_t frames_read_ = 0;
};

}  // namespace polyhead::cli
