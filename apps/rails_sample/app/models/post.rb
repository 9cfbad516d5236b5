class Post < ApplicationRecord
  IMAGE_TYPES = %w[image/png image/jpeg image/gif image/webp].freeze

  has_one_attached :image

  validates :title, presence: true, length: { maximum: 200 }
  validates :body, length: { maximum: 10_000 }
  validate :image_is_an_image

  private

  def image_is_an_image
    return unless image.attached?
    return if IMAGE_TYPES.include?(image.blob.content_type)

    errors.add(:image, "must be a PNG, JPEG, GIF or WebP image")
  end
end
