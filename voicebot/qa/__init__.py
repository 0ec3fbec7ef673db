"""Quality inspection: rubrics, and every call scored by them."""
