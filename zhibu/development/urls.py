from django.urls import path

from zhibu.development import views, views_docs

app_name = "development"
urlpatterns = [
    path("", views.board, name="board"),
    path("me/", views.mine, name="mine"),
    path("plan/", views.plan, name="plan"),
    path("cases/new/", views.case_new, name="case_new"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("cases/<int:pk>/steps/<str:code>/", views.step_record, name="step_record"),
    path("cases/<int:pk>/discontinue/", views.case_discontinue, name="discontinue"),
    path("records/<int:record_id>/correct/", views.step_correct, name="step_correct"),
    path("records/<int:record_id>/documents/", views.document_add, name="document_add"),
    path("documents/<int:doc_id>/", views.document_download, name="document"),
    path("documents/<int:doc_id>/withdraw/", views.document_withdraw, name="document_withdraw"),
    *views_docs.urlpatterns,
]
