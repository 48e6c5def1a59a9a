// Counts the mutex locks taken anywhere in the process (through pthread_mutex_lock and
// pthread_mutex_trylock, which std::mutex and the C libraries use) while a piece of code runs.
// Linking this file interposes those two functions.
#pragma once

#include <functional>

namespace polyhead::testing {

long count_locks(const std::function<void()>& body);

}  // namespace polyhead::testing
