// scenarios/kit/random_crashes.h — a nemesis for several nodes: crash a
// random node at random times, restart it after a pause, then wait until
// every node has finished its work.
//
// Each round sleeps a random time, picks a node at random and, unless it
// already finished or is down, crashes it ("crash" in the coverage), sleeps
// again and restarts it for work. After the rounds it waits for every node
// to call Node::Finish() and stops the run with `done_reason`.
//
// Draws from Stream::kCrash, in order: the number of rounds; per round the
// sleep, the victim and (if it crashed) the pause.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "scenarios/kit/node.h"
#include "scenarios/kit/world.h"

namespace faultline::scenarios::kit {

struct RandomCrashesPlan {
  int max_rounds = 0;           // rounds drawn in [0, max_rounds]
  int64_t max_gap_ns = 1;       // sleep before each round, in [1, max]
  int64_t max_down_ns = 1;      // time a crashed node stays down, in [1, max]
  std::string_view label;       // names the crashes in the trace
  std::string_view done_reason; // the run's stop reason once every node finished
};

// Call from the nemesis fiber (World::StartNemesis), after the nodes started.
void RunRandomCrashes(World& world, const std::vector<std::unique_ptr<Node>>& nodes,
                      const RandomCrashesPlan& plan);

}  // namespace faultline::scenarios::kit
