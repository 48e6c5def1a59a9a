// The bounded frame queue of `polyhead stream` (cli/frame_queue.h): capacity, both drop policies,
// the counts, and shutdown from either side. Threads meet through the queue itself; no assertion
// depends on how fast the machine is (a short sleep only gives a wrongly unblocked call the chance
// to show itself). Assertions in the helper threads run only while the main thread waits in
// join().
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>
#include <vector>

#include "cli/frame_queue.h"

using namespace polyhead::cli;

namespace {

void give_other_thread_a_chance() {
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

}  // namespace

TEST_CASE("frame queue: drop policies parse by name and print back") {
  CHECK(*parse_drop_policy("--drop", "block") == DropPolicy::kBlock);
  CHECK(*parse_drop_policy("--drop", "oldest") == DropPolicy::kDropOldest);
  CHECK(std::string(to_string(DropPolicy::kBlock)) == "block");
  CHECK(std::string(to_string(DropPolicy::kDropOldest)) == "oldest");
  auto bad = parse_drop_policy("--drop", "newest");
  REQUIRE_FALSE(bad.is_ok());
  CHECK(bad.status().message().find("--drop") != std::string::npos);
  CHECK(bad.status().message().find("'newest'") != std::string::npos);
}

TEST_CASE("frame queue: capacity + 2 distinct slots, at most capacity waiting") {
  for (size_t capacity : {1u, 2u, 5u}) {
    FrameQueue q(capacity, DropPolicy::kDropOldest);
    CHECK(q.capacity() == capacity);
    REQUIRE(q.slot_count() == capacity + 2);
    std::set<size_t> handed;
    for (size_t i = 0; i < q.slot_count(); ++i) {
      auto slot = q.acquire();
      REQUIRE(slot);
      CHECK(*slot < q.slot_count());
      handed.insert(*slot);
    }
    CHECK(handed.size() == q.slot_count());  // every slot once
    for (size_t slot : handed) {
      REQUIRE(q.push(slot));
      CHECK(q.waiting() <= capacity);
    }
    CHECK(q.waiting() == capacity);
    CHECK(q.pushed() == capacity + 2);
    CHECK(q.dropped() == 2);
  }
  // A capacity of 0 is taken as 1: a queue must hold a frame to hand it over.
  CHECK(FrameQueue(0, DropPolicy::kBlock).capacity() == 1);
}

TEST_CASE("frame queue: drop oldest frees the oldest waiting slot and counts it") {
  FrameQueue q(2, DropPolicy::kDropOldest);
  const size_t a = *q.acquire(), b = *q.acquire(), c = *q.acquire();
  REQUIRE(q.push(a));
  REQUIRE(q.push(b));
  CHECK(q.take_dropped() == 0);
  REQUIRE(q.push(c));  // full: a is dropped, never waits
  CHECK(q.dropped() == 1);
  CHECK(q.take_dropped() == 1);
  CHECK(q.take_dropped() == 0);  // counted once
  CHECK(q.dropped() == 1);       // the total stays
  CHECK(q.waiting() == 2);
  CHECK(*q.pop() == b);  // the newest frames survive, in order
  CHECK(*q.pop() == c);
  // The dropped slot is free again: four acquires succeed without a release of b or c.
  std::set<size_t> free;
  for (int i = 0; i < 2; ++i) free.insert(*q.acquire());
  CHECK(free.count(a) == 1);
}

TEST_CASE("frame queue: block makes push wait for the consumer and loses nothing") {
  FrameQueue q(2, DropPolicy::kBlock);
  const size_t a = *q.acquire(), b = *q.acquire(), c = *q.acquire();
  REQUIRE(q.push(a));
  REQUIRE(q.push(b));
  // Catch2 assertions stay on this thread (they are not thread-safe: ThreadSanitizer caught the
  // producer's CHECK racing with the ones below); the producer hands its result over.
  std::atomic<bool> pushed{false};
  bool push_result = false;
  std::thread producer([&] {
    push_result = q.push(c);
    pushed = true;
  });
  give_other_thread_a_chance();
  CHECK_FALSE(pushed.load());  // the queue is full: push waits
  CHECK(q.waiting() == 2);
  CHECK(*q.pop() == a);  // room for one
  producer.join();
  CHECK(push_result);
  CHECK(pushed.load());
  CHECK(*q.pop() == b);
  CHECK(*q.pop() == c);
  CHECK(q.dropped() == 0);
  CHECK(q.take_dropped() == 0);
  CHECK(q.pushed() == 3);
}

TEST_CASE("frame queue: close hands out what waits, then ends") {
  FrameQueue q(3, DropPolicy::kBlock);
  const size_t a = *q.acquire(), b = *q.acquire();
  REQUIRE(q.push(a));
  REQUIRE(q.push(b));
  q.close();
  CHECK(*q.pop() == a);
  CHECK(*q.pop() == b);
  CHECK_FALSE(q.pop());
  CHECK_FALSE(q.pop());
}

TEST_CASE("frame queue: close wakes a consumer waiting on an empty queue") {
  FrameQueue q(2, DropPolicy::kBlock);
  std::atomic<bool> ended{false};
  bool popped = true;
  std::thread consumer([&] {
    popped = q.pop().has_value();
    ended = true;
  });
  give_other_thread_a_chance();
  CHECK_FALSE(ended.load());  // nothing to pop yet: it waits
  q.close();
  consumer.join();
  CHECK_FALSE(popped);
  CHECK(ended.load());
}

TEST_CASE("frame queue: cancel releases a blocked producer, consumer and acquirer") {
  SECTION("a producer waiting for room") {
    FrameQueue q(1, DropPolicy::kBlock);
    const size_t a = *q.acquire(), b = *q.acquire();
    REQUIRE(q.push(a));
    bool pushed = true;
    std::thread producer([&] { pushed = q.push(b); });
    give_other_thread_a_chance();
    q.cancel();
    producer.join();
    CHECK_FALSE(pushed);
    CHECK_FALSE(q.pop());     // waiting frames are discarded
    CHECK(q.dropped() == 0);  // and not counted as dropped
    CHECK_FALSE(q.acquire());
  }
  SECTION("a consumer waiting for a frame") {
    FrameQueue q(2, DropPolicy::kDropOldest);
    bool popped = true;
    std::thread consumer([&] { popped = q.pop().has_value(); });
    give_other_thread_a_chance();
    q.cancel();
    consumer.join();
    CHECK_FALSE(popped);
  }
  SECTION("a producer waiting for a free slot") {
    FrameQueue q(1, DropPolicy::kDropOldest);
    for (size_t i = 0; i < q.slot_count(); ++i) REQUIRE(q.acquire());  // all held
    std::atomic<bool> returned{false};
    bool acquired = true;
    std::thread producer([&] {
      acquired = q.acquire().has_value();
      returned = true;
    });
    give_other_thread_a_chance();
    CHECK_FALSE(returned.load());
    q.cancel();
    producer.join();
    CHECK_FALSE(acquired);
    CHECK(returned.load());
  }
}

TEST_CASE("frame queue: a producer and a consumer thread, every frame accounted for") {
  constexpr uint64_t kFrames = 2000;
  for (DropPolicy policy : {DropPolicy::kBlock, DropPolicy::kDropOldest}) {
    FrameQueue q(2, policy);
    std::vector<uint64_t> frame_of(q.slot_count());  // what each slot holds
    std::vector<uint64_t> received;
    uint64_t dropped_seen = 0;
    // Catch2 assertions are for the main thread: the producer only records what went wrong.
    std::atomic<bool> producer_failed{false};
    std::thread producer([&] {
      for (uint64_t f = 0; f < kFrames; ++f) {
        auto slot = q.acquire();
        if (!slot) {
          producer_failed = true;
          break;
        }
        frame_of[*slot] = f;
        if (!q.push(*slot)) producer_failed = true;
      }
      q.close();
    });
    while (auto slot = q.pop()) {
      dropped_seen += q.take_dropped();
      received.push_back(frame_of[*slot]);
      if (received.size() % 7 == 0) std::this_thread::yield();  // a slower consumer now and then
      q.release(*slot);
    }
    producer.join();
    CHECK_FALSE(producer_failed.load());
    dropped_seen += q.take_dropped();
    INFO("policy " << to_string(policy));
    CHECK(q.pushed() == kFrames);
    CHECK(received.size() + dropped_seen == kFrames);
    CHECK(dropped_seen == q.dropped());
    for (size_t i = 1; i < received.size(); ++i)
      REQUIRE(received[i] > received[i - 1]);  // in order
    if (policy == DropPolicy::kBlock) {
      CHECK(dropped_seen == 0);
      CHECK(received.size() == kFrames);
    }
    CHECK(received.back() == kFrames - 1);  // the last frame is never dropped
  }
}
