require "test_helper"

class PostTest < ActiveSupport::TestCase
  test "needs a title" do
    post = Post.new(body: "no title")
    assert_not post.valid?
    assert_includes post.errors[:title], "can't be blank"
  end

  test "accepts an image and rejects other files" do
    post = Post.new(title: "with image")
    post.image.attach(io: StringIO.new(file_fixture("pixel.png").binread), filename: "pixel.png",
                      content_type: "image/png")
    assert post.valid?

    post.image.attach(io: StringIO.new("hello"), filename: "hello.txt", content_type: "text/plain")
    assert_not post.valid?
    assert_includes post.errors[:image].first, "must be a PNG"
  end
end
