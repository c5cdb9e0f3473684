"""Building blocks every app shares: money, queueing work after commit, updating a model from data.

`common` sits below every app: it imports Django, Celery and `config`, never an app.
"""
