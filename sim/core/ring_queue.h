// A FIFO of small values in a power-of-two ring that grows by doubling and never shrinks:
// after warm-up, push and pop allocate nothing (std::deque allocates per block). 16 bytes
// of header, so the per-tenant state around it stays within a cache line; the ring is
// allocated at the first push.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace infersim {

template <typename T>
class RingQueue {
 public:
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  const T& front() const {
    assert(size_ > 0);
    return buf_[head_];
  }
  // i-th element from the front.
  const T& operator[](std::size_t i) const { return buf_[(head_ + i) & mask_]; }

  void push_back(const T& v) {
    if (size_ == capacity()) grow();
    buf_[(head_ + size_) & mask_] = v;
    ++size_;
  }
  T pop_front() {
    assert(size_ > 0);
    T v = buf_[head_];
    head_ = (head_ + 1) & mask_;
    --size_;
    return v;
  }
  // Moves the n oldest values (n <= size()) to `out` (out.push_back each), oldest first:
  // pop_front() n times, with the ring's fields read and written once, not per value.
  template <typename Out>
  void pop_front_into(std::size_t n, Out& out) {
    assert(n <= size_);
    const T* buf = buf_.get();
    const std::uint32_t mask = mask_;
    std::uint32_t head = head_;
    for (std::size_t i = 0; i < n; ++i) {
      out.push_back(buf[head]);
      head = (head + 1) & mask;
    }
    head_ = head;
    size_ -= static_cast<std::uint32_t>(n);
  }

 private:
  std::uint32_t capacity() const { return buf_ ? mask_ + 1 : 0; }
  void grow() {
    const std::uint32_t n = buf_ ? 2 * capacity() : 16;
    auto next = std::make_unique<T[]>(n);
    for (std::uint32_t i = 0; i < size_; ++i) next[i] = (*this)[i];
    buf_ = std::move(next);
    mask_ = n - 1;
    head_ = 0;
  }

  std::unique_ptr<T[]> buf_;
  std::uint32_t mask_ = 0;
  std::uint32_t head_ = 0;
  std::uint32_t size_ = 0;
};

}  // namespace infersim
