// A FIFO of small values in a power-of-two ring that grows by doubling and never shrinks:
// after warm-up, push and pop allocate nothing (std::deque allocates per block). The first
// 64 bytes of values live inside the object, so a short queue shares the cache lines of the
// state around it (a tenant's queue is usually a few requests long); a longer one moves to
// the heap.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>

namespace infersim {

template <typename T>
class RingQueue {
  static_assert(sizeof(T) <= 64 && (64 % sizeof(T)) == 0);
  static constexpr std::uint32_t kInline = 64 / sizeof(T);  // a power of two for small T

 public:
  RingQueue() = default;
  // Moving keeps the values: inline ones are copied, a heap ring changes owner. (The data
  // pointer is fixed up, so an access never has to ask where the values are.)
  RingQueue(RingQueue&& o) noexcept { take(o); }
  RingQueue& operator=(RingQueue&& o) noexcept {
    if (this != &o) take(o);
    return *this;
  }
  RingQueue(const RingQueue&) = delete;
  RingQueue& operator=(const RingQueue&) = delete;
  ~RingQueue() {
    if (buf_ != inline_) delete[] buf_;
  }

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
    const T* buf = buf_;
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
  std::uint32_t capacity() const { return mask_ + 1; }
  void grow() {
    const std::uint32_t n = 2 * capacity();
    T* next = new T[n];
    for (std::uint32_t i = 0; i < size_; ++i) next[i] = (*this)[i];
    if (buf_ != inline_) delete[] buf_;
    buf_ = next;
    mask_ = n - 1;
    head_ = 0;
  }
  void take(RingQueue& o) {
    if (buf_ != inline_) delete[] buf_;
    mask_ = o.mask_;
    head_ = o.head_;
    size_ = o.size_;
    if (o.buf_ == o.inline_) {
      std::copy(o.inline_, o.inline_ + kInline, inline_);
      buf_ = inline_;
    } else {
      buf_ = o.buf_;
    }
    o.buf_ = o.inline_;
    o.mask_ = kInline - 1;
    o.head_ = 0;
    o.size_ = 0;
  }

  T* buf_ = inline_;  // inline_, or a heap ring of mask_ + 1 values once they outgrew it
  std::uint32_t mask_ = kInline - 1;
  std::uint32_t head_ = 0;
  std::uint32_t size_ = 0;
  T inline_[kInline]{};  // zeroed, so a move copies no indeterminate values
};

}  // namespace infersim
