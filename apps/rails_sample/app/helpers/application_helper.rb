module ApplicationHelper
  def app_revision
    RailsSample.revision
  end
end
