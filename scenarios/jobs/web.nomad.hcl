# A web frontend as its team keeps it: a service spread over the datacenters, on Linux clients.
variable "instances" {
  type    = number
  default = 3
}

variable "image_tag" {
  type    = string
  default = "1.27"
}

job "web" {
  datacenters = ["dc1", "dc2"]
  type        = "service"
  priority    = 60

  constraint {
    attribute = "${attr.kernel.name}"
    value     = "linux"
  }

  spread {
    attribute = "${node.datacenter}"
  }

  group "frontend" {
    count = var.instances

    network {
      port "http" {
        to = 80
      }
    }

    task "nginx" {
      driver = "docker"

      config {
        image = "nginx:${var.image_tag}"
        ports = ["http"]
      }

      resources {
        cpu    = 500
        memory = 512
      }
    }
  }
}
