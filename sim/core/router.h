// The interface of a router, which picks the replica of a service that serves a request,
// and the registry that names the routers.
//
// A service is one model deployed as several replicas (tenants, usually on different GPUs)
// behind one arrival stream. The engine asks the service's router for a replica at each
// arrival, before the request joins that replica's queue. Routers read the engine's state
// (requests outstanding per tenant, where each model's weights are) and never change it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "sim/core/params.h"

namespace infersim {

class Engine;

class Router {
 public:
  virtual ~Router() = default;
  // The replica (an index into the service's replicas) for a request arriving now.
  virtual std::uint32_t pick() = 0;
  // A hint, called shortly before the next pick(): starts loading the engine state that
  // pick() will read, where the router can tell which without changing its own state. It
  // changes no value.
  virtual void prefetch() const {}
};

// What a router is built with.
struct RouterSetup {
  const Engine& engine;
  std::string service;  // the service's name (names the router's RNG stream)
  // The service's tenants, in replica order: the engine's own list (Engine::service), which
  // outlives the router. Routers keep this view rather than a copy, so that an arrival reads
  // the one list Engine::schedule_next prefetched.
  std::span<const std::uint32_t> replicas;
  const Params& params;
};

struct RouterInfo {
  std::string name;
  std::string description;
  std::vector<ParamSpec> params;
  std::function<std::unique_ptr<Router>(const RouterSetup&)> create;
};

class RouterRegistry {
 public:
  void add(RouterInfo info);  // throws std::logic_error on a duplicate name
  // Throws InputError at `where` listing the valid names when unknown.
  const RouterInfo& get(const std::string& name, const Mark& where) const;
  const std::vector<RouterInfo>& all() const { return entries_; }

 private:
  std::vector<RouterInfo> entries_;
};

}  // namespace infersim
