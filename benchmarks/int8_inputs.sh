# Sourced by benchmarks/int8.sh and benchmarks/file_size.sh (from the repository root): the
# release `polyhead` built, the models fetched and exported, and the photos as arguments.
# Calibration and evaluation photos are disjoint: calibration uses @vladmandic/face-api's
# sample1-3 and python3-skimage photos, evaluation sample4-6 and astronaut.png.
bin=build/release/bin/polyhead
data=build/data
onnx=build/onnx_models
skimage=/usr/lib/python3/dist-packages/skimage/data
scripts/fetch_data.sh >/dev/null
scripts/make_onnx_models.sh "$onnx" >&2
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target polyhead >&2
calib=()
for f in "$data"/sample1.jpg "$data"/sample2.jpg "$data"/sample3.jpg "$skimage"/chelsea.png \
  "$skimage"/coffee.png "$skimage"/rocket.jpg "$skimage"/motorcycle_left.png; do
  calib+=(--calib "$f")
done
# shellcheck disable=SC2034  # used by the scripts that source this one
eval_args=(--images "$data"/sample4.jpg --images "$data"/sample5.jpg --images "$data"/sample6.jpg
  --images "$skimage"/astronaut.png)
