// The OpenCV DNN driver of the peer suite (Debian's OpenCV 4.6, its default CPU backend): reads
// ONNX models with cv::dnn::readNetFromONNX and runs each once per timed run, all outputs
// computed. A model OpenCV cannot read prints {"error": "cannot load: ..."} (exit 3), e.g. opset
// 11+ Clip with min/max inputs, which OpenCV 4.6 rejects.
#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/dnn.hpp>

#include "peer_timing.h"

int main(int argc, char** argv) {
  using namespace polyhead;
  peers::PeerOptions o;
  std::string error;
  if (!peers::parse_peer_options(argc, argv, &o, &error) ||
      (!o.models.empty() && o.shapes.size() != o.models.size())) {
    peers::print_error("opencv", error.empty() ? "--shapes needs one shape per model" : error);
    return 2;
  }
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
  cv::setNumThreads(o.threads);
  const long rss_before = peers::peak_rss_kb();
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<cv::dnn::Net> nets;
  std::vector<std::vector<cv::String>> outputs;
  try {
    for (size_t m = 0; m < o.models.size(); ++m) {
      cv::dnn::Net net = cv::dnn::readNetFromONNX(o.models[m]);
      net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
      net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
      cv::Mat blob(static_cast<int>(o.shapes[m].size()), o.shapes[m].data(), CV_32F);
      peers::fill_input(blob.ptr<float>(), blob.total(), 1);
      net.setInput(blob);
      outputs.push_back(net.getUnconnectedOutLayersNames());
      std::vector<cv::Mat> out;
      net.forward(out, outputs.back());  // the first run also finishes OpenCV's set-up
      nets.push_back(net);
    }
  } catch (const cv::Exception& e) {
    peers::print_error("opencv", std::string("cannot load: ") + e.what());
    return 3;
  }
  const double load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::vector<cv::Mat> out;
  const std::vector<double> ms = peers::time_runs(o.warmup, o.runs, [&] {
    for (size_t m = 0; m < nets.size(); ++m) nets[m].forward(out, outputs[m]);
    return true;
  });
  peers::print_result("opencv", ms, load_ms, rss_before);
  return 0;
}
