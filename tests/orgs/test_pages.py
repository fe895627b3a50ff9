from zhibu.orgs.models import Organization, Post


def test_tree_shows_only_the_visible_part(world, client_as):
    text = client_as(world.users.school_secretary).get("/orgs/").content.decode()
    assert "第一中学党委" in text and "第二小学党总支" not in text
    text = client_as(world.users.wc_staff).get("/orgs/").content.decode()
    assert "第一中学党委" in text and "第二小学党总支" in text


def test_org_page_shows_posts_groups_and_head_counts(world, client_as):
    text = client_as(world.users.school_secretary).get("/orgs/SA-B1/").content.decode()
    assert "李红梅" in text and "书记" in text
    assert "第一党小组" in text and "正式党员" in text and "入党积极分子" in text


def test_edit_org_validates_and_saves(world, client_as):
    client = client_as(world.users.branch_secretary)
    response = client.post("/orgs/SA-B1/edit/", {"name": "", "sort_order": "0"})
    assert response.status_code == 200 and "必填" in response.content.decode()
    assert Organization.objects.get(code="SA-B1").name == "第一党支部"
    response = client.post("/orgs/SA-B1/edit/", {"name": "语文党支部", "sort_order": "1"})
    assert response.status_code == 302
    assert Organization.objects.get(code="SA-B1").name == "语文党支部"
    assert "修改" in client.get("/orgs/SA-B1/").content.decode()


def test_member_cannot_edit_their_branch(world, client_as):
    client = client_as(world.users.member)
    assert client.get("/orgs/SA-B1/").status_code == 200
    assert client.get("/orgs/SA-B1/edit/").status_code == 403
    assert client.get("/orgs/SA-B2/").status_code == 404


def test_create_child_and_assign_and_end_a_post(world, client_as):
    client = client_as(world.users.school_secretary)
    response = client.post(
        "/orgs/SA/new/", {"code": "SA-B3", "name": "第三党支部", "kind": "branch", "sort_order": "3"}
    )
    assert response.status_code == 302
    assert Organization.objects.get(code="SA-B3").path == "/WC/SA/SA-B3/"
    bad = client.post("/orgs/SA/new/", {"code": "SA-B3", "name": "重复", "kind": "branch"})
    assert "已被使用" in bad.content.decode()
    response = client.post(
        "/orgs/SA-B1-G1/posts/new/",
        {"person": world.people.member.pk, "role": "group_leader", "started_on": "2025-09-01"},
    )
    assert response.status_code == 302
    post = Post.objects.get(org=world.sa_b1_g1, role="group_leader")
    response = client.post(f"/orgs/SA-B1-G1/posts/{post.pk}/end/", {"ended_on": "2026-01-01"})
    assert response.status_code == 302
    post.refresh_from_db()
    assert str(post.ended_on) == "2026-01-01"


def test_term_page(world, client_as):
    client = client_as(world.users.school_secretary)
    response = client.post(
        "/orgs/SA/terms/new/", {"number": "2", "started_on": "2024-06-01", "length_years": "5"}
    )
    assert response.status_code == 302
    assert "2029-06-01" in client.get("/orgs/SA/").content.decode()


def test_term_form_takes_the_usual_length_from_the_policy_not_from_code(world, client_as):
    from zhibu.compliance.models import PolicyOverride

    client = client_as(world.users.school_secretary)
    page = client.get("/orgs/SA/terms/new/").content.decode()
    assert 'value="5"' in page and "任期 5 年" in page  # national: a school committee serves 5 years
    assert 'value="3"' in client.get("/orgs/SA-B1/terms/new/").content.decode()
    PolicyOverride.objects.create(org=world.sa, key="term.branch_years", value=5)
    page = client.get("/orgs/SA-B1/terms/new/").content.decode()
    assert 'value="5"' in page and "本校设置" in page
