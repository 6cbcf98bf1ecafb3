// A FIFO of small values in a power-of-two ring that grows by doubling and never shrinks:
// after warm-up, push and pop allocate nothing (std::deque allocates per block).
#pragma once

#include <cassert>
#include <cstddef>
#include <vector>

namespace infersim {

template <typename T>
class RingQueue {
 public:
  RingQueue() : buf_(16) {}

  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  const T& front() const {
    assert(size_ > 0);
    return buf_[head_];
  }
  // i-th element from the front.
  const T& operator[](std::size_t i) const { return buf_[(head_ + i) & (buf_.size() - 1)]; }

  void push_back(const T& v) {
    if (size_ == buf_.size()) grow();
    buf_[(head_ + size_) & (buf_.size() - 1)] = v;
    ++size_;
  }
  T pop_front() {
    assert(size_ > 0);
    T v = buf_[head_];
    head_ = (head_ + 1) & (buf_.size() - 1);
    --size_;
    return v;
  }

 private:
  void grow() {
    std::vector<T> next(buf_.size() * 2);
    for (std::size_t i = 0; i < size_; ++i) next[i] = (*this)[i];
    buf_.swap(next);
    head_ = 0;
  }

  std::vector<T> buf_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace infersim
