"""kefu (客服): customer-service and after-sales work-order platform."""

__version__ = "0.1.0"
