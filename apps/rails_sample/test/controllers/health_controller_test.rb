require "test_helper"

class HealthControllerTest < ActionDispatch::IntegrationTest
  test "answers 200 when the database answers" do
    get health_url
    assert_response :ok
    assert_match(/\Aok /, response.body)
  end

  test "answers 503 when the database does not" do
    failing = Object.new
    def failing.verify!
      raise ActiveRecord::ConnectionNotEstablished, "database is down"
    end
    ActiveRecord::Base.stub(:connection, failing) do
      get health_url
    end
    assert_response :service_unavailable
  end
end
