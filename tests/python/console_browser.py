"""certexport's console in headless Chromium, driven by Selenium through
Debian's chromium-driver. Called by tests/console.rs:

    console_browser.py CONFIG_JSON

CONFIG_JSON names: base (https://localhost:PORT), downloads (a directory),
screenshots (a directory), and the callers' names and passwords: alice
(collection 5 with its keys), bob (collection 5 without keys), the PFX
password. Every check here is an assert; the downloaded files are judged
by OpenSSL in tests/console.rs.
"""

import base64
import json
import os
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select

SHOTS = [("desktop", 1280, False), ("phone", 390, True)]


def driver_for(downloads):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--no-first-run", "--password-store=basic", "--window-size=1280,900",
                "--lang=en-US"]:
        options.add_argument(arg)
    # The test CA is not in Chromium's trust store; the connection is still TLS.
    options.accept_insecure_certs = True
    options.add_experimental_option("prefs", {
        "download.default_directory": downloads,
        "download.prompt_for_download": False,
        "credentials_enable_service": False,
        "profile.password_manager_enabled": False,
    })
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
    driver.set_page_load_timeout(60)
    return driver


def shot(driver, directory, name):
    """The whole page at desktop and phone width, as PNG files."""
    for label, width, mobile in SHOTS:
        metrics = {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": mobile}
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        height = driver.execute_script("return Math.ceil(document.documentElement.scrollHeight)")
        metrics["height"] = max(600, min(int(height), 4000))
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        png = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        with open(os.path.join(directory, f"{name}-{label}.png"), "wb") as f:
            f.write(base64.b64decode(png["data"]))
        # Nothing may stick out sideways at phone width.
        if mobile:
            wide = driver.execute_script(
                "return document.documentElement.scrollWidth > document.documentElement.clientWidth + 1")
            assert not wide, f"{name} scrolls sideways at {width} px"
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def wait_for_file(directory, name, seconds=60):
    target = os.path.join(directory, name)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if os.path.exists(target) and not os.path.exists(target + ".crdownload"):
            return target
        time.sleep(0.2)
    raise AssertionError(f"{name} was not downloaded; the directory holds {os.listdir(directory)}")


def wait_until(what, check, seconds=30):
    """Waits (bounded) for check() to hold: a click that submits a form
    returns before the next page has loaded."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {seconds} s")


def click_to(driver, element, url):
    """Clicks element and waits for the page at url."""
    element.click()
    wait_until(f"the page {url}", lambda: driver.current_url == url
               and driver.execute_script("return document.readyState") == "complete")


def sign_in(driver, base, name, password):
    driver.get(base + "/console/signin")
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(password)
    click_to(driver, driver.find_element(By.CSS_SELECTOR, "form.dialog button[type=submit]"), base + "/")


def sign_out(driver, base):
    click_to(driver, driver.find_element(By.CSS_SELECTOR, "form.signout button"), base + "/console/signin")


def history_urls(driver):
    entries = driver.execute_cdp_cmd("Page.getNavigationHistory", {})["entries"]
    return [e["url"] + " " + e.get("title", "") for e in entries]


def labelled(driver):
    """Every visible control has a label (or is a button)."""
    missing = driver.execute_script("""
        return Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))
          .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
          .map(e => e.id || e.name);""")
    assert not missing, f"controls without a label: {missing}"


def main():
    config = json.load(open(sys.argv[1]))
    base, downloads, shots = config["base"], config["downloads"], config["screenshots"]
    secret = config["pfx_password"]
    driver = driver_for(downloads)
    try:
        # No page without a session: every console page sends the browser to the sign-in.
        for page in ["/", "/console/certificates/3", "/console/certificates/3/download", "/?cn=example"]:
            driver.get(base + page)
            assert driver.current_url == base + "/console/signin", (page, driver.current_url)
        labelled(driver)

        # A wrong password is refused, and not shown back.
        driver.find_element(By.ID, "name").send_keys(config["alice"])
        driver.find_element(By.ID, "password").send_keys("not-the-password")
        driver.find_element(By.CSS_SELECTOR, "form.dialog button[type=submit]").click()
        wait_until("the refusal", lambda: "wrong" in driver.page_source)
        assert "not-the-password" not in driver.page_source

        sign_in(driver, base, config["alice"], config["alice_password"])
        cookies = {c["name"]: c for c in driver.get_cookies()}
        session = cookies["__Host-certexport-session"]
        assert session["httpOnly"] and session["secure"] and session["sameSite"] == "Strict", session
        assert "expiry" in session, session
        assert driver.execute_script("return document.cookie") == "", "the session cookie is readable by scripts"

        # Search by common name, with the keyboard.
        box = driver.find_element(By.ID, "cn")
        box.send_keys("example.com")
        box.submit()
        wait_until("the results", lambda: driver.find_elements(By.ID, "count"))
        rows = driver.find_elements(By.CSS_SELECTOR, "#results tbody tr")
        names = [r.find_elements(By.TAG_NAME, "td")[1].text for r in rows]
        # alice reads collection 5: a.example.com and c.example.com, never b (collection 6).
        assert "a.example.com" in names and "c.example.com" in names, names
        assert "b.example.com" not in names, names
        count = driver.find_element(By.ID, "count").text
        assert count == "1–2 of 2 certificates", count
        labelled(driver)
        shot(driver, shots, "search")

        # b.example.com (id 100, collection 6) is not alice's: not even its page.
        driver.get(base + "/console/certificates/100")
        assert "Not found" in driver.title and "b.example.com" not in driver.page_source
        driver.get(base + "/console/certificates/100/download")
        assert "Not found" in driver.title

        # Open a.example.com from the results.
        driver.get(base + "/?cn=a.example.com")
        click_to(driver, driver.find_element(By.LINK_TEXT, "a.example.com"), base + "/console/certificates/3")
        text = driver.find_element(By.TAG_NAME, "main").text
        chain = [li.find_element(By.CLASS_NAME, "subject").text
                 for li in driver.find_elements(By.CSS_SELECTOR, "ol.chain li")]
        assert [c.split("CN=")[1].split(",")[0] for c in chain] == \
            ["a.example.com", "Manifest Intermediate", "Manifest Root"], chain
        assert "You may export it" in text and "DNS:a.example.com" in text, text
        assert driver.find_elements(By.CSS_SELECTOR, "p.badge.good, p.badge.warn, p.badge.bad")
        shot(driver, shots, "certificate")

        # The dialog: PEM with the chain, root first.
        click_to(driver, driver.find_element(By.LINK_TEXT, "Download…"), base + "/console/certificates/3/download")
        labelled(driver)
        form = driver.find_element(By.ID, "download")
        Select(form.find_element(By.ID, "format")).select_by_value("PEM")
        offered = [o.get_attribute("value") for o in Select(form.find_element(By.ID, "extension")).options]
        assert offered == ["pem", "cer", "crt"], offered
        Select(form.find_element(By.ID, "format")).select_by_value("P7B")
        offered = [o.get_attribute("value") for o in Select(form.find_element(By.ID, "extension")).options]
        assert offered == ["p7b"], offered
        Select(form.find_element(By.ID, "format")).select_by_value("PEM")
        chain_box = form.find_element(By.ID, "include_chain")
        if not chain_box.is_selected():
            chain_box.click()
        form.find_element(By.ID, "order_root").click()
        assert not form.find_element(By.ID, "key").is_displayed()
        shot(driver, shots, "download")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait_for_file(downloads, "a.example.com.pem")

        # PFX with a password typed twice, through the keyboard.
        driver.get(base + "/console/certificates/3/download")
        form = driver.find_element(By.ID, "download")
        Select(form.find_element(By.ID, "format")).select_by_value("PFX")
        assert form.find_element(By.ID, "key").is_displayed()
        offered = [o.get_attribute("value") for o in Select(form.find_element(By.ID, "extension")).options]
        assert offered == ["pfx"], offered
        # Two different passwords are refused by the page itself.
        form.find_element(By.ID, "password").send_keys(secret)
        form.find_element(By.ID, "password_again").send_keys(secret + "x")
        assert driver.execute_script("return document.getElementById('download').checkValidity()") is False
        form.find_element(By.ID, "password_again").clear()
        form.find_element(By.ID, "password_again").send_keys(secret)
        shot(driver, shots, "download-key")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait_for_file(downloads, "a.example.com.pfx")
        time.sleep(0.5)

        # The password is nowhere the browser keeps: URL, page, history, fields.
        assert secret not in driver.current_url
        assert secret not in driver.page_source
        assert driver.find_element(By.ID, "password").get_attribute("value") == ""
        for entry in history_urls(driver):
            assert secret not in entry, entry
        storage = driver.execute_script(
            "return JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + document.cookie")
        assert secret not in storage

        # Keys of c.example.com are forbidden by its policy: not offered.
        driver.get(base + "/console/certificates/4/download")
        values = [o.get_attribute("value") for o in Select(driver.find_element(By.ID, "format")).options]
        assert "PFX" not in values and not driver.find_elements(By.ID, "password"), values

        sign_out(driver, base)
        driver.get(base + "/")
        assert driver.current_url == base + "/console/signin"

        # bob reads collection 5 without the key claim: no key export offered...
        sign_in(driver, base, config["bob"], config["bob_password"])
        driver.get(base + "/console/certificates/3")
        assert "Not exportable by you" in driver.page_source
        driver.get(base + "/console/certificates/3/download")
        values = [o.get_attribute("value") for o in Select(driver.find_element(By.ID, "format")).options]
        assert values == ["PEM", "CER", "CRT", "DER", "P7B"], values
        assert not driver.find_elements(By.ID, "password")
        # ...and the server refuses one sent by hand, with a valid CSRF token.
        status = driver.execute_script("""
            const form = document.getElementById('download');
            const body = new URLSearchParams(new FormData(form));
            body.set('format', 'PFX'); body.set('password', 'by-hand-1'); body.set('password_again', 'by-hand-1');
            return fetch(form.action, {method: 'POST', body: body}).then(r =>
                r.status + ' ' + r.headers.get('content-type'));""")
        assert status.startswith("403 text/html"), status
        assert not os.path.exists(os.path.join(downloads, "a.example.com (1).pfx"))
        sign_out(driver, base)

        # The API reference: every call listed, and one sent from the page.
        driver.get(base + "/docs")
        wait_until("the reference's calls", lambda: driver.find_elements(By.CSS_SELECTOR, "details.op"))
        summaries = [s.text for s in driver.find_elements(By.CSS_SELECTOR, "details.op summary")]
        for path in ["/KeyfactorAPI/Certificates/Download", "/KeyfactorAPI/Certificates/Recover",
                     "/KeyfactorAPI/Certificates", "/KeyfactorAPI/Certificates/{id}",
                     "/avxapi/certificate/privatekey/download", "/healthz", "/metrics"]:
            assert any((" " + path + " ") in s for s in summaries), (path, summaries)
        labelled(driver)
        driver.find_element(By.ID, "auth-name").send_keys(config["alice"])
        driver.find_element(By.ID, "auth-password").send_keys(config["alice_password"])
        download_op = next(d for d in driver.find_elements(By.CSS_SELECTOR, "details.op")
                           if " /KeyfactorAPI/Certificates/Download " in d.find_element(By.TAG_NAME, "summary").text)
        download_op.find_element(By.TAG_NAME, "summary").click()
        for label in download_op.find_elements(By.TAG_NAME, "label"):
            if label.text.startswith("collectionId"):
                driver.find_element(By.ID, label.get_attribute("for")).send_keys("5")
            if label.text.startswith("x-certificateformat"):
                driver.find_element(By.ID, label.get_attribute("for")).send_keys("PEM")
        body = download_op.find_element(By.TAG_NAME, "textarea")
        body.clear()
        body.send_keys('{"CertID": 3, "IncludeChain": true}')
        download_op.find_element(By.CSS_SELECTOR, ".actions button").click()
        out = download_op.find_element(By.CSS_SELECTOR, "pre.out")
        wait_until("the call's answer", lambda: "Sending" not in out.text)
        assert out.text.startswith("200") and "X-CertificateFile: a.example.com.pem" in out.text, out.text
        shot(driver, shots, "docs")
    finally:
        driver.quit()
    print("console browser checks passed")


if __name__ == "__main__":
    main()
