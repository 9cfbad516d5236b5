require "test_helper"

class PostsControllerTest < ActionDispatch::IntegrationTest
  def upload
    fixture_file_upload("pixel.png", "image/png")
  end

  test "lists no posts on an empty database, with the revision" do
    get root_url
    assert_response :success
    assert_select "h1", "Posts"
    assert_select "#revision", RailsSample.revision
    assert_select "link[rel=stylesheet][href*=application]"
  end

  test "shows the new post form with a file field" do
    get new_post_url
    assert_response :success
    assert_select "form[enctype='multipart/form-data'] input[type=file][name='post[image]']"
  end

  test "creates a post with an image, shows it, lists it and serves the image" do
    assert_difference -> { Post.count } => 1, -> { ActiveStorage::Blob.count } => 1 do
      post posts_url, params: { post: { title: "Hello", body: "First post", image: upload } }
    end
    created = Post.last
    assert_redirected_to post_url(created)
    assert created.image.attached?
    assert_equal "pixel.png", created.image.filename.to_s
    assert_equal file_fixture("pixel.png").binread, created.image.download

    follow_redirect!
    assert_response :success
    assert_select "h1", "Hello"
    assert_select "code.blob-key", created.image.blob.key

    get posts_url
    assert_response :success
    assert_select "article##{ActionView::RecordIdentifier.dom_id(created)} h2", "Hello"
    assert_select "a.image-link", "pixel.png"
    image_path = css_select("a.image-link").first["href"]
    assert_match %r{/rails/active_storage/blobs/proxy/}, image_path

    get image_path
    assert_response :success
    assert_equal "image/png", response.media_type
    assert_equal file_fixture("pixel.png").binread, response.body
  end

  test "rejects a post without a title" do
    assert_no_difference -> { Post.count } do
      post posts_url, params: { post: { title: "", body: "x", image: upload } }
    end
    assert_response :unprocessable_entity
    assert_select ".errors li", /Title can't be blank/
  end

  test "updates a post and replaces its image" do
    record = Post.create!(title: "Old", body: "old body")
    patch post_url(record), params: { post: { title: "New", image: upload } }
    assert_redirected_to post_url(record)
    record.reload
    assert_equal "New", record.title
    assert record.image.attached?

    get edit_post_url(record)
    assert_response :success
  end

  test "deletes a post" do
    record = Post.create!(title: "Gone soon")
    assert_difference -> { Post.count } => -1 do
      delete post_url(record)
    end
    assert_redirected_to posts_url
  end
end
