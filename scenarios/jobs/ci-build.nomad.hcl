# A build runner dispatched once per build, as a CI system drives Nomad.
job "ci-build" {
  datacenters = ["*"]
  type        = "batch"

  parameterized {
    payload       = "forbidden"
    meta_optional = ["branch"]
  }

  group "build" {
    task "build" {
      driver = "docker"

      config {
        image = "cimg/base:current"
      }

      resources {
        cpu    = 2048
        memory = 4096
      }
    }
  }
}
