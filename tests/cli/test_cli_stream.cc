// `polyhead stream` end to end: the built binary on Debian's OpenCV sample videos (opencv-doc:
// Megamind.avi, a face) and the fetched photos, with the converted MediaPipe models; its report,
// JSON, annotated video and errors (exit 2 for a bad command line, 1 for bad files). Only counts
// are judged, never how fast anything ran.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/videoio.hpp>

#include "cli_streams.h"
#include "support/cli_runner.h"
#include "support/json_reader.h"
#include "support/test_files.h"

namespace fs = std::filesystem;
namespace testing = polyhead::testing;

namespace {

using testing::CliStreams;
using testing::Json;
using testing::ShellResult;
using testing::TempDir;

using testing::run_cli;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

Json read_json(const std::string& path) {
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Json j;
  INFO(text);
  REQUIRE(testing::parse_json(text, j));
  return j;
}

std::string data_file(const std::string& name) {
  std::string path = (fs::path(testing::data_dir()) / name).string();
  if (!fs::exists(path)) FAIL("missing " << path << ": run scripts/fetch_data.sh");
  return path;
}

// Debian's opencv-doc sample videos, or $POLYHEAD_OPENCV_SAMPLES.
std::string sample_video(const std::string& name) {
  const char* env = std::getenv("POLYHEAD_OPENCV_SAMPLES");
  const std::string dir = env && *env ? env : "/usr/share/doc/opencv-doc/examples/data";
  std::string path = (fs::path(dir) / name).string();
  if (!fs::exists(path))
    FAIL("missing " << path << ": install opencv-doc (scripts/install_deps.sh)");
  return path;
}

void run_ok(const std::vector<std::string>& args) {
  const ShellResult o = run_cli(args);
  INFO(o.output);
  REQUIRE(o.exit_code == 0);
}

// The MediaPipe models converted with their presets into `dir`, as the README does.
std::string face_model(const TempDir& dir) {
  const std::string out = dir / "face_detection.phm";
  if (!fs::exists(out))
    run_ok({"convert", data_file("face_detection_short_range.tflite"), "--preset",
            "mediapipe-face-detection-short", "-o", out});
  return out;
}
std::string selfie_model(const TempDir& dir) {
  const std::string out = dir / "selfie.phm";
  if (!fs::exists(out))
    run_ok({"convert", data_file("selfie_segmentation.tflite"), "--preset",
            "mediapipe-selfie-segmentation", "-o", out});
  return out;
}
std::string pose_model(const TempDir& dir) {
  const std::string out = dir / "pose.phm";
  if (!fs::exists(out))
    run_ok({"convert", data_file("pose_landmark_lite.tflite"), "--preset",
            "mediapipe-pose-landmark-lite", "-o", out});
  return out;
}

// The task `task` of model `label` in the JSON report.
const Json& task_of(const Json& report, const std::string& label, const std::string& task) {
  for (const Json& t : report["tasks"].array)
    if (t["model"].string == label && t["task"].string == task) return t;
  FAIL("no task " << label << ":" << task << " in the report");
  static const Json kNone;
  return kNone;
}

struct VideoFile {
  int frames = 0;
  cv::Size size;
  cv::Mat last;
};

VideoFile read_video(const std::string& path) {
  VideoFile v;
  cv::VideoCapture capture(path, cv::CAP_FFMPEG);
  REQUIRE(capture.isOpened());
  cv::Mat frame;
  while (capture.read(frame)) {
    if (v.frames++ == 0) v.size = frame.size();
    CHECK(frame.size() == v.size);
    v.last = frame.clone();
  }
  return v;
}

// Pixels of the boxes `run --image` draws (pure green), with room for the codec's rounding.
int green_pixels(const cv::Mat& bgr) {
  int n = 0;
  for (int y = 0; y < bgr.rows; ++y)
    for (int x = 0; x < bgr.cols; ++x) {
      const cv::Vec3b p = bgr.at<cv::Vec3b>(y, x);
      n += p[1] > 180 && p[0] < 90 && p[2] < 90;
    }
  return n;
}

}  // namespace

TEST_CASE("cli stream: help, and the command in the program's list") {
  ShellResult o = run_cli({"help", "stream"});
  INFO(o.output);
  CHECK(o.exit_code == 0);
  for (const char* needle :
       {"usage: polyhead stream", "--video", "--images", "--camera", "--rate", "--priority",
        "--deadline-ms", "--budget-ms", "--drop", "--out", "--json", "--quiet", "LABEL:TASK"})
    CHECK(contains(o.output, needle));
  o = run_cli({"stream", "--help"});
  CHECK(o.exit_code == 0);
  CHECK(contains(o.output, "usage: polyhead stream"));
  o = run_cli({"--help"});
  CHECK(contains(o.output, "stream"));
}

TEST_CASE("cli stream: the face detector on the first 30 frames of Megamind.avi", "[needs-data]") {
  TempDir dir;
  const std::string model = face_model(dir), video = sample_video("Megamind.avi");
  const std::string out = dir / "faces.mp4", json = dir / "faces.json";
  const CliStreams o = testing::run_cli_streams(
      {"stream", model, "--video", video, "--max-frames", "30", "--out", out, "--json", json}, dir);
  INFO(o.out << o.err);
  REQUIRE(o.exit_code == 0);

  // The text report on stdout: the task's row and the stream's counts.
  CHECK(contains(o.out, "face_detection:faces"));
  CHECK(contains(o.out, "30 in, 30 processed, 0 dropped"));
  CHECK(contains(o.out, "p50 ms"));
  CHECK(contains(o.out, "wrote    " + out + " (30 frames)"));
  CHECK_FALSE(contains(o.out, "polyhead stream:"));  // status lines go to stderr only
  // stderr: the stage line first, then status lines, the last with every frame counted.
  const std::vector<std::string> err = testing::lines_of(o.err);
  REQUIRE(err.size() >= 2);
  CHECK(contains(err.front(), "polyhead stream: streaming video '" + video + "'"));
  CHECK(contains(err.back(), "face_detection:faces 30 run 0 skip"));
  CHECK(contains(err.back(), "30/30 frames"));
  CHECK(testing::is_step_line(err.back()));

  const Json report = read_json(json);
  CHECK(report["source"]["kind"].string == "video");
  CHECK(report["source"]["width"].number == 720);
  CHECK(report["source"]["height"].number == 528);
  CHECK(report["source"]["fps"].number > 0);
  CHECK(report["drop"].string == "block");  // a file: no frame is lost by default
  const Json& stream = report["stream"];
  CHECK(stream["frames_in"].number == 30);
  CHECK(stream["frames_processed"].number == 30);
  CHECK(stream["frames_dropped"].number == 0);
  CHECK(stream["frames_over_budget"].number == 0);  // no budget
  const Json& faces = task_of(report, "face_detection", "faces");
  CHECK(faces["runs"].number == 30);
  CHECK(faces["skips"].number == 0);
  CHECK(faces["every_n_frames"].number == 1);
  const Json& latency = faces["latency_ms"];
  CHECK(latency["p50"].number > 0);
  CHECK(latency["p50"].number <= latency["p90"].number);
  CHECK(latency["p90"].number <= latency["p99"].number);
  CHECK(latency["p99"].number <= latency["max"].number);
  CHECK(report["annotated"]["frames"].number == 30);

  // The annotated video: every processed frame, at the source's size, with boxes drawn.
  const VideoFile v = read_video(out);
  CHECK(v.frames == 30);
  CHECK(v.size == cv::Size(720, 528));
  // The clip fades in from black; by frame 30 a face is in view and boxed.
  cv::VideoCapture source(video, cv::CAP_FFMPEG);
  cv::Mat original;
  for (int i = 0; i < 30; ++i) REQUIRE(source.read(original));
  CHECK(green_pixels(v.last) > green_pixels(original) + 500);
}

TEST_CASE("cli stream: --rate runs each task on every Nth frame", "[needs-data]") {
  TempDir dir;
  const std::string face = face_model(dir), selfie = selfie_model(dir);
  const std::string json = dir / "rates.json";
  run_ok({"stream", face, selfie, "--video", sample_video("Megamind.avi"), "--max-frames", "12",
          "--rate", "faces=3", "--rate", "selfie:mask=2", "--priority", "mask=5", "--deadline-ms",
          "face_detection:faces=1000", "--json", json, "--quiet"});
  const Json report = read_json(json);
  CHECK(report["stream"]["frames_processed"].number == 12);
  const Json& faces = task_of(report, "face_detection", "faces");
  CHECK(faces["every_n_frames"].number == 3);
  CHECK(faces["runs"].number == 4);  // frames 0, 3, 6, 9
  CHECK(faces["deadline_ms"].number == 1000);
  const Json& mask = task_of(report, "selfie", "mask");
  CHECK(mask["every_n_frames"].number == 2);
  CHECK(mask["runs"].number == 6);
  CHECK(mask["priority"].number == 5);
  CHECK(report["models"].array.size() == 2);
}

TEST_CASE("cli stream: several models in one stream share one pool", "[needs-data]") {
  TempDir dir;
  const std::string face = face_model(dir), selfie = selfie_model(dir), pose = pose_model(dir);
  const std::string out = dir / "three.avi";
  const CliStreams o = testing::run_cli_streams(
      {"stream", face, selfie, pose, "--video", sample_video("Megamind.avi"), "--max-frames", "6",
       "--tasks", "faces,mask,pose:landmarks", "--threads", "2", "--out", out, "--json", "-",
       "--quiet"},
      dir);
  INFO(o.out << o.err);
  REQUIRE(o.exit_code == 0);
  CHECK(o.err.empty());  // --quiet
  Json report;
  REQUIRE(testing::parse_json(o.out, report));  // --json -: the JSON alone on stdout
  CHECK(report["threads"].number == 2);
  REQUIRE(report["models"].array.size() == 3);
  CHECK(report["models"].array[2]["label"].string == "pose");
  REQUIRE(report["tasks"].array.size() == 3);  // --tasks left pose's other heads out
  for (const auto& [label, task] : std::vector<std::pair<std::string, std::string>>{
           {"face_detection", "faces"}, {"selfie", "mask"}, {"pose", "landmarks"}})
    CHECK(task_of(report, label, task)["runs"].number == 6);
  const VideoFile v = read_video(out);
  CHECK(v.frames == 6);
  CHECK(v.size == cv::Size(720, 528));
}

TEST_CASE("cli stream: a folder of photos, in name order, into a video of the first's size",
          "[needs-data]") {
  TempDir dir;
  const std::string model = face_model(dir);
  fs::create_directories(dir / "photos");
  for (const char* name : {"sample1.jpg", "sample2.jpg", "sample3.jpg"})
    fs::copy_file(data_file(name), dir / (std::string("photos/") + name));
  std::ofstream(dir / "photos/notes.txt") << "not a photo\n";  // skipped: not an image
  const std::string out = dir / "photos.avi", json = dir / "photos.json";
  run_ok({"stream", model, "--images", dir / "photos", "--out", out, "--json", json, "--quiet"});
  const Json report = read_json(json);
  CHECK(report["source"]["kind"].string == "images");
  CHECK(report["stream"]["frames_processed"].number == 3);
  CHECK(task_of(report, "face_detection", "faces")["runs"].number == 3);
  const cv::Mat first = cv::Mat(1280, 1920, CV_8UC3);  // sample1.jpg is 1920x1280
  const VideoFile v = read_video(out);
  CHECK(v.frames == 3);
  CHECK(v.size == first.size());
  CHECK(report["source"]["width"].number == 1920);
}

TEST_CASE("cli stream: --drop oldest counts every frame as processed or dropped", "[needs-data]") {
  TempDir dir;
  const std::string json = dir / "drop.json";
  // Read at 500 frames a second, faster than the detector keeps up with on most machines; the
  // counts must add up however many frames are dropped.
  run_ok({"stream", face_model(dir), "--video", sample_video("Megamind.avi"), "--max-frames", "40",
          "--drop", "oldest", "--fps", "500", "--queue", "1", "--json", json, "--quiet"});
  const Json report = read_json(json);
  CHECK(report["drop"].string == "oldest");
  CHECK(report["queue_capacity"].number == 1);
  CHECK(report["pace_fps"].number == 500);
  const Json& s = report["stream"];
  CHECK(s["frames_in"].number == 40);
  CHECK(s["frames_processed"].number + s["frames_dropped"].number == 40);
  CHECK(s["frames_processed"].number >= 1);
  CHECK(task_of(report, "face_detection", "faces")["runs"].number == s["frames_processed"].number);
}

TEST_CASE("cli stream: bad options and missing files are errors naming them", "[needs-data]") {
  TempDir dir;
  const std::string face = face_model(dir), selfie = selfie_model(dir);
  const std::string video = sample_video("Megamind.avi");
  std::ofstream(dir / "notes.txt") << "not a video\n";
  fs::create_directories(dir / "empty");
  fs::create_directories(dir / "broken");
  std::ofstream(dir / "broken/a.png") << "not a png\n";
  const std::vector<std::string> src = {"--video", video, "--max-frames", "2"};
  const auto with = [&](std::vector<std::string> a) {
    a.insert(a.end(), src.begin(), src.end());
    return a;
  };
  struct Case {
    const char* what;
    std::vector<std::string> args;
    int exit_code;
    std::vector<std::string> needles;
  };
  const std::vector<Case> cases = {
      {"no model", {"stream", "--video", video}, 2, {"MODEL"}},
      {"no source", {"stream", face}, 2, {"--video", "--images", "--camera"}},
      {"two sources",
       {"stream", face, "--video", video, "--images", dir / "empty"},
       2,
       {"exclusive"}},
      {"absent video", {"stream", face, "--video", dir / "absent.avi"}, 1, {"absent.avi"}},
      {"text file as video", {"stream", face, "--video", dir / "notes.txt"}, 1, {"notes.txt"}},
      {"folder as video", {"stream", face, "--video", dir / "empty"}, 1, {"empty"}},
      {"absent folder", {"stream", face, "--images", dir / "absent"}, 1, {"absent"}},
      {"folder without photos", {"stream", face, "--images", dir / "empty"}, 1, {"empty"}},
      {"file as folder", {"stream", face, "--images", dir / "notes.txt"}, 1, {"notes.txt"}},
      {"undecodable photo", {"stream", face, "--images", dir / "broken"}, 1, {"a.png"}},
      {"absent camera", {"stream", face, "--camera", "97"}, 1, {"camera 97"}},
      {"absent model", with({"stream", dir / "absent.phm"}), 1, {"absent.phm"}},
      {"text file as model", with({"stream", dir / "notes.txt"}), 1, {"notes.txt"}},
      {"unknown task", with({"stream", face, "--rate", "nope=2"}), 2, {"--rate", "'nope'"}},
      {"unknown task in --tasks", with({"stream", face, "--tasks", "faces,nope"}), 2, {"nope"}},
      {"unknown label", with({"stream", face, "--rate", "x:faces=2"}), 2, {"'x'"}},
      {"label without that task",
       with({"stream", face, selfie, "--rate", "selfie:faces=2"}),
       2,
       {"selfie", "'faces'"}},
      {"ambiguous task",
       with({"stream", face, face, "--priority", "faces=2"}),
       2,
       {"'faces'", "face_detection:faces", "face_detection-2:faces"}},
      {"rate 0", with({"stream", face, "--rate", "faces=0"}), 2, {"--rate", "faces=0"}},
      {"rate not a number", with({"stream", face, "--rate", "faces=often"}), 2, {"faces=often"}},
      {"negative Hz", with({"stream", face, "--rate", "faces=-5hz"}), 2, {"faces=-5hz"}},
      {"rate without task", with({"stream", face, "--rate", "3"}), 2, {"--rate", "'3'"}},
      {"rate twice",
       with({"stream", face, "--rate", "faces=2", "--rate", "faces=3"}),
       2,
       {"faces", "twice"}},
      {"rate outside --tasks",
       with({"stream", face, selfie, "--tasks", "faces", "--rate", "mask=2"}),
       2,
       {"mask", "--tasks"}},
      {"priority not a number",
       with({"stream", face, "--priority", "faces=high"}),
       2,
       {"faces=high"}},
      {"deadline 0", with({"stream", face, "--deadline-ms", "faces=0"}), 2, {"faces=0"}},
      {"negative budget", with({"stream", face, "--budget-ms", "-1"}), 2, {"--budget-ms", "'-1'"}},
      {"threads", with({"stream", face, "--threads", "x"}), 2, {"--threads", "'x'"}},
      {"max-frames 0",
       {"stream", face, "--video", video, "--max-frames", "0"},
       2,
       {"--max-frames"}},
      {"queue 0", with({"stream", face, "--queue", "0"}), 2, {"--queue", "'0'"}},
      {"drop policy", with({"stream", face, "--drop", "newest"}), 2, {"--drop", "'newest'"}},
      {"fps 0", with({"stream", face, "--fps", "0"}), 2, {"--fps", "'0'"}},
      {"camera -1", {"stream", face, "--camera", "-1"}, 2, {"--camera", "'-1'"}},
      {"png out", with({"stream", face, "--out", dir / "out.png"}), 2, {"out.png", ".mp4"}},
      {"out in absent folder",
       with({"stream", face, "--out", dir / "no/out.mp4"}),
       1,
       {"no/out.mp4"}},
      {"json in absent folder",
       with({"stream", face, "--json", dir / "no/r.json"}),
       1,
       {"no/r.json"}},
      {"unknown option", with({"stream", face, "--frob"}), 2, {"--frob"}},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    const ShellResult o = run_cli(c.args);
    INFO(o.output);
    CHECK(o.exit_code == c.exit_code);
    CHECK(contains(o.output, "polyhead stream: "));
    for (const std::string& needle : c.needles) CHECK(contains(o.output, needle));
  }
}
