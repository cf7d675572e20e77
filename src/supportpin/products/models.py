from django.db import models

from supportpin.accounts.models import Customer


class Product(models.Model):
    """A customer's product (Kundenprodukt), keyed by the provider's own id."""

    id = models.CharField(max_length=64, primary_key=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="products")
    type = models.CharField(max_length=32)
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=32, default="active")
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.id


class RepeatedCheck(models.Model):
    """One audited window of a check that panels and proxies repeat: grant, product, 5 minutes.

    The unique key makes the coalescing hold across app processes: only the request whose row
    is new writes the audit entry.
    """

    grant = models.ForeignKey("access.Grant", on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    bucket = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["grant", "product", "bucket"], name="repeated_check_once_per_bucket"
            )
        ]
        # The worker's housekeeping deletes windows that are over, oldest first.
        indexes = [models.Index(fields=["bucket"], name="repeated_check_bucket_idx")]
