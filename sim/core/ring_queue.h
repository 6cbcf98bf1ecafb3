// A FIFO of small values in a power-of-two ring that grows by doubling and never shrinks:
// after warm-up, push and pop allocate nothing (std::deque allocates per block). The first
// 64 bytes of values live inside the object, so a short queue shares the cache lines of the
// state around it (a tenant's queue is usually a few requests long); a longer one moves to
// the heap.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace infersim {

template <typename T>
class RingQueue {
  static_assert(sizeof(T) <= 64 && (64 % sizeof(T)) == 0);
  static constexpr std::uint32_t kInline = 64 / sizeof(T);  // a power of two for small T

 public:
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  const T& front() const {
    assert(size_ > 0);
    return data()[head_];
  }
  // i-th element from the front.
  const T& operator[](std::size_t i) const { return data()[(head_ + i) & mask_]; }

  void push_back(const T& v) {
    if (size_ == capacity()) grow();
    data()[(head_ + size_) & mask_] = v;
    ++size_;
  }
  T pop_front() {
    assert(size_ > 0);
    T v = data()[head_];
    head_ = (head_ + 1) & mask_;
    --size_;
    return v;
  }
  // Moves the n oldest values (n <= size()) to `out` (out.push_back each), oldest first:
  // pop_front() n times, with the ring's fields read and written once, not per value.
  template <typename Out>
  void pop_front_into(std::size_t n, Out& out) {
    assert(n <= size_);
    const T* buf = data();
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
  static_assert((kInline & (kInline - 1)) == 0, "the inline ring must be a power of two");
  T* data() { return heap_ ? heap_.get() : inline_; }
  const T* data() const { return heap_ ? heap_.get() : inline_; }
  std::uint32_t capacity() const { return mask_ + 1; }
  void grow() {
    const std::uint32_t n = 2 * capacity();
    auto next = std::make_unique<T[]>(n);
    for (std::uint32_t i = 0; i < size_; ++i) next[i] = (*this)[i];
    heap_ = std::move(next);
    mask_ = n - 1;
    head_ = 0;
  }

  std::unique_ptr<T[]> heap_;  // null while the values fit inline_
  std::uint32_t mask_ = kInline - 1;
  std::uint32_t head_ = 0;
  std::uint32_t size_ = 0;
  T inline_[kInline];
};

}  // namespace infersim
