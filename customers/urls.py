from __future__ import annotations

from django.urls import path

from customers import views
from invoices.staff import account_links, statements
from invoices.staff.customer_accounts import export_customers
from invoices.staff.saved_methods import set_autopay

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("export.csv", export_customers, name="export"),
    path("new/", views.customer_create, name="create"),
    path("pick/", views.customer_pick, name="pick"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/statement/", statements.statement_page, name="statement"),
    path("<int:pk>/statement.pdf", statements.statement_download, name="statement_pdf"),
    path("<int:pk>/statement/email/", statements.statement_email, name="statement_email"),
    path("<int:pk>/archive/", views.customer_archive, name="archive"),
    path("<int:pk>/account-link/issue/", account_links.issue, name="account_link_issue"),
    path("<int:pk>/account-link/revoke/", account_links.revoke, name="account_link_revoke"),
    path("<int:pk>/account-link/code/", account_links.require_code, name="account_link_code"),
    path("<int:pk>/restore/", views.customer_restore, name="restore"),
    path("<int:pk>/delete/", views.customer_delete, name="delete"),
    path("<int:pk>/saved-methods/<int:method_pk>/autopay/", set_autopay, name="autopay"),
]
