# A sharded nomad-sim-report sweep as a Nomad parameterized batch job: one dispatch per shard.
#
#   nomad job run -var shards=8 docs/jobs/nomad-sim-sweep.nomad.hcl
#   for i in $(seq 0 7); do nomad job dispatch -meta shard=$i nomad-sim-sweep; done
#
# The clients need nomad-sim-report in /usr/local/bin and the scenarios in
# /usr/local/share/nomad-sim/scenarios (both inside the exec driver's default chroot).
# `nomad-sim jobspec docs/jobs/nomad-sim-sweep.nomad.hcl` shows how the simulator reads it.

variable "shards" {
  type        = number
  default     = 8
  description = "How many shards the sweep is split into (one dispatch each)."

  validation {
    condition     = var.shards >= 1
    error_message = "The sweep needs at least one shard."
  }
}

variable "seeds" {
  type    = number
  default = 20
}

variable "datacenters" {
  type    = list(string)
  default = ["*"]
}

locals {
  scenarios = "/usr/local/share/nomad-sim/scenarios"
  out       = "${NOMAD_ALLOC_DIR}/data"
}

job "nomad-sim-sweep" {
  type        = "batch"
  datacenters = var.datacenters

  parameterized {
    payload       = "forbidden"
    meta_required = ["shard"]
  }

  constraint {
    attribute = "${attr.kernel.name}"
    value     = "linux"
  }

  group "sweep" {
    count = 1

    # A failed shard is simply dispatched again; do not burn a node retrying it.
    restart {
      attempts = 0
      mode     = "fail"
    }

    reschedule {
      attempts  = 1
      interval  = "1h"
      unlimited = false
    }

    ephemeral_disk {
      size = 500
    }

    task "shard" {
      driver = "exec"

      config {
        command = "/usr/local/bin/nomad-sim-report"
        args = [
          "--scenarios", local.scenarios,
          "--seeds", tostring(var.seeds),
          "--no-timing",
          "--shard", "${NOMAD_META_shard}/${var.shards}",
          "--out", local.out,
        ]
      }

      resources {
        cpu    = 4000
        memory = 2048
      }
    }
  }
}
