# Metrics from every client.
job "node-exporter" {
  datacenters = ["*"]
  type        = "system"
  priority    = 70

  group "exporter" {
    task "node-exporter" {
      driver = "docker"

      config {
        image = "prom/node-exporter:v1.8.2"
      }

      resources {
        cpu    = 100
        memory = 64
      }
    }
  }
}
