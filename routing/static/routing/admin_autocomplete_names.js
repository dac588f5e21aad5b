'use strict';
// Select2 names its combobox after the chosen option only (aria-labelledby its own text): nameless while nothing is
// chosen, and never the field's label. Prefix that name with the field's <label>, or with the select's aria-label
// (set on tabular inline fields, which have no <label>). Runs after Django's autocomplete.js has made the widgets.
{
    const $ = django.jQuery;

    function nameCombobox(select) {
        const container = select.nextElementSibling;
        const combobox = container && container.querySelector('[role=combobox]');
        if (!combobox || !select.id || combobox.dataset.named) {
            return;
        }
        let label = document.querySelector(`label[for="${select.id}"]`);
        if (!label && select.getAttribute('aria-label')) {
            label = document.createElement('span');
            label.hidden = true;  // aria-labelledby reads hidden elements
            label.textContent = select.getAttribute('aria-label');
            container.append(label);
        }
        if (!label) {
            return;
        }
        label.id = label.id || `${select.id}_name`;
        // Select2 4.0 calls the text of the chosen option a read-only textbox, nameless when empty: it is only text.
        const rendered = combobox.querySelector('[role=textbox]');
        if (rendered) {
            rendered.removeAttribute('role');
            rendered.removeAttribute('aria-readonly');
        }
        combobox.setAttribute('aria-labelledby', `${label.id} ${combobox.getAttribute('aria-labelledby') || ''}`.trim());
        combobox.dataset.named = 'true';
    }

    function nameAll(root) {
        root.querySelectorAll('select.admin-autocomplete').forEach(nameCombobox);
    }

    $(() => nameAll(document));
    document.addEventListener('formset:added', (event) => nameAll(event.target));
}
