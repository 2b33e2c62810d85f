# Removes stale build caches every half hour; a run is skipped while the last one still runs.
job "cleanup" {
  datacenters = ["*"]
  type        = "batch"

  periodic {
    crons            = ["*/30 * * * *"]
    prohibit_overlap = true
  }

  group "tidy" {
    task "tidy" {
      driver = "exec"

      config {
        command = "/usr/local/bin/tidy-caches"
      }

      resources {
        cpu    = 200
        memory = 256
      }
    }
  }
}
