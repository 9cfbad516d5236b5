# GET /up: 200 only when the database answers a query, 503 otherwise. The load balancer
# (and the deploy's health check) use it to decide whether this host serves traffic.
class HealthController < ActionController::Base
  def show
    connection = ActiveRecord::Base.connection
    connection.verify! # reconnects after the database came back
    connection.select_value("SELECT 1")
    render plain: "ok #{RailsSample.revision}\n", status: :ok
  rescue StandardError => e
    logger.warn("health check failed: #{e.class}: #{e.message}")
    render plain: "database unavailable\n", status: :service_unavailable
  end
end
