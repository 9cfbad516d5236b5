Rails.application.routes.draw do
  # 200 when the database answers, 503 otherwise (the load balancer's health check).
  get "up", to: "health#show", as: :health

  resources :posts
  root "posts#index"
end
