from django.urls import path

from .views import bulk, custom, get_started, hygiene, listing

app_name = "apikeys"

urlpatterns = [
    path("tenants/<str:code>/api-keys/", listing.key_list, name="list"),
    path("tenants/<str:code>/api-keys/new/", custom.key_create, name="create"),
    path("tenants/<str:code>/api-keys/bulk/", bulk.bulk_confirm, name="bulk"),
    path("tenants/<str:code>/api-keys/export.csv", bulk.key_export, name="export"),
    path("tenants/<str:code>/api-keys/<uuid:key_id>/secret/", listing.secret_show, name="secret"),
    path("tenants/<str:code>/api-keys/<uuid:key_id>/renew/", listing.key_renew, name="renew"),
    path(
        "tenants/<str:code>/api-keys/<uuid:key_id>/secrets/<uuid:secret_id>/retire/",
        listing.secret_retire,
        name="retire",
    ),
    path("tenants/<str:code>/api-keys/<uuid:key_id>/edit/", custom.key_edit, name="edit"),
    path("tenants/<str:code>/api-keys/<uuid:key_id>/settings/", hygiene.key_settings, name="settings"),
    path("tenants/<str:code>/api-keys/<uuid:key_id>/disable/", hygiene.key_disable, name="disable"),
    path("tenants/<str:code>/api-keys/<uuid:key_id>/enable/", hygiene.key_enable, name="enable"),
    path("tenants/<str:code>/api-keys/report-leak/", hygiene.leak_report, name="report_leak"),
    path("tenants/<str:code>/api-keys/<uuid:key_id>/delete/", custom.key_delete, name="delete"),
    path("tenants/<str:code>/api-keys/<uuid:key_id>/get-started/", get_started.get_started, name="get_started"),
    path("tenants/<str:code>/api-keys/<uuid:key_id>/scopes/", get_started.key_scopes, name="scopes"),
]
