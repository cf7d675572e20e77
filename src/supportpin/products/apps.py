from django.apps import AppConfig


class ProductsConfig(AppConfig):
    name = "supportpin.products"
    label = "products"
